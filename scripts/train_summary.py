#!/usr/bin/env python3
"""Summarizes training runs from their checkpoints (runs/<name>.ckpt.json): epochs done, best
validation accuracy and its epoch (what `bitgru train` keeps), the mean validation accuracy of
the last 5 epochs (less lucky than the best single epoch: the 483 KWS validation clips make one
clip 0.21 points), and the last training accuracy.

Usage: python3 scripts/train_summary.py runs/p4-base.ckpt.json runs/p4-spec.ckpt.json ...
Prints a Markdown table.
"""
import json, sys


def main():
    print("| run | epochs | best val | at epoch | mean val, last 5 | train acc, last |")
    print("|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        with open(path) as f:
            d = json.load(f)
        h = d["history"]
        if not h:
            print(f"| {path} | 0 | - | - | - | - |")
            continue
        best = max(h, key=lambda r: r["val_accuracy"])
        # The kept model is the first epoch reaching the best score.
        first = next(r for r in h if r["val_accuracy"] == best["val_accuracy"])
        last = h[-5:]
        mean = sum(r["val_accuracy"] for r in last) / len(last)
        name = path.rsplit("/", 1)[-1].removesuffix(".ckpt.json")
        print(
            f"| {name} | {len(h)}/{d['config']['epochs']} | {100 * best['val_accuracy']:.2f} % | "
            f"{first['epoch']} | {100 * mean:.2f} % | {100 * h[-1]['train_accuracy']:.2f} % |"
        )


if __name__ == "__main__":
    main()
