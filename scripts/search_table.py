#!/usr/bin/env python3
"""Markdown tables of the committed search results (results/<task>/result.json) for
docs/RESULTS.md. Reads only the result files; no computation.

    python3 scripts/search_table.py [results]
"""
import json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "results"
tasks = ["row-mnist", "pixel-mnist", "kws4", "kws10"]


def pct(x):
    return f"{100 * x:.2f} %"


def hv2(points, ref=(1.1, 1.1)):
    """Exact 2-D hypervolume (minimization) of (error, size) points."""
    pts = sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1])
    area, best_y = 0.0, ref[1]
    for x, y in pts:
        if y < best_y:
            area += (ref[0] - x) * (best_y - y)
            best_y = y
    return area


def best(b):
    if not b:
        return "none", "-"
    return f"`{b['genome']}` {pct(b['accuracy'])}", f"{100 * b['size_reduction']:.1f} %"


print("| task | split (n) | all-8 accuracy | all-8 bytes | smallest within 1 pp of all-8 | size reduction | HV mixed | HV homogeneous | evals | search time |")
print("|---|---|---|---|---|---|---|---|---|---|")
rows_qat = []
for t in tasks:
    p = os.path.join(root, t, "result.json")
    if not os.path.exists(p):
        continue
    r = json.load(open(p))
    hv = r["hypervolume"]
    all8 = r["homogeneous"][-1]
    tm = r["timings"]
    for s in r["rescored"]:
        a8 = next(h for h in s["homogeneous"] if set(h["genome"]) == {"8"})
        g, red = best(s["best_within_1pp"])
        print(f"| {t} | {s['split']} ({s['n']}) | {pct(a8['accuracy'])} | {all8['size_bytes']} | {g} | {red} | "
              f"{hv['mixed']:.4f} | {hv['homogeneous']:.4f} | {tm['evaluations']} | {tm['search_seconds']:.0f} s ({tm['threads']} threads) |")
    if r.get("qat"):
        rows_qat.append((t, r["qat"], r["rescored"][0]))

if rows_qat:
    print()
    print("| task | QAT budget | split | smallest within 1 pp of all-8 (PTQ) | after QAT | size reduction after QAT | HV of these genomes, PTQ | HV after QAT | QAT time |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t, q, s in rows_qat:
        g0, r0 = best(s["best_within_1pp"])
        g1, r1 = best(q["best_within_1pp"])
        # HV of the same genomes before QAT, on the same split.
        ptq = hv2([(1 - f["ptq_accuracy"], f["size_normalized"]) for f in q["front"]])
        print(f"| {t} | {q['epochs']} epoch on {q['train_samples']} samples, lr {q['lr']:.0e}, {len(q['front'])} genomes | {q['split']} | {g0} ({r0}) | {g1} | {r1} | "
              f"{ptq:.4f} | {q['hypervolume']:.4f} | {q['seconds']:.0f} s |")
