#!/usr/bin/env python3
"""Summarizes training runs from their checkpoints (runs/<name>.ckpt.json): epochs done, best
validation accuracy and its epoch (what `bitgru train` keeps), the mean validation accuracy of
the last 5 epochs (less lucky than the best single epoch: the 483 KWS validation clips make one
clip 0.21 points), and the last training accuracy.

Runs trained with --ema validate the moving average; their epochs also record the raw weights'
accuracy (val_accuracy_raw), and a second table compares the two over the same run (best, mean of
the last 5 epochs, mean of epochs 40 to the end).

Usage: python3 scripts/train_summary.py runs/p4-base.ckpt.json runs/p4-spec.ckpt.json ...
Prints a Markdown table.
"""
import json, sys


def ema_table(runs):
    """EMA runs: the average (what is validated and kept) against the raw weights."""
    rows = [(n, h) for n, h in runs if h and h[0].get("val_accuracy_raw") is not None]
    if not rows:
        return
    print()
    print("| run | weights | best val | at epoch | mean val, last 5 | mean val, epochs 40+ |")
    print("|---|---|---|---|---|---|")
    for name, h in rows:
        for label, key in (("EMA", "val_accuracy"), ("raw", "val_accuracy_raw")):
            v = [r[key] for r in h]
            best = max(v)
            late = v[40:] or v
            print(
                f"| {name} | {label} | {100 * best:.2f} % | {h[v.index(best)]['epoch']} | "
                f"{100 * sum(v[-5:]) / len(v[-5:]):.2f} % | {100 * sum(late) / len(late):.2f} % |"
            )


def main():
    runs = []
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
        runs.append((name, h))
        print(
            f"| {name} | {len(h)}/{d['config']['epochs']} | {100 * best['val_accuracy']:.2f} % | "
            f"{first['epoch']} | {100 * mean:.2f} % | {100 * h[-1]['train_accuracy']:.2f} % |"
        )
    ema_table(runs)


if __name__ == "__main__":
    main()
