#!/usr/bin/env python3
"""Generate pymoo reference fixtures for the generic NSGA-II in crates/bitgru/src/search.

What it makes (in crates/bitgru/tests/fixtures/pymoo/):

  sorting.json   non-dominated sorting and crowding distances, as pymoo's NSGA-II computes them:
                   fronts   = NonDominatedSorting().do(F)            (front 0 first, each front's
                                                                      indices ascending)
                   crowding = get_crowding_function("cd").do(F[front]) for every front, i.e. what
                              RankAndCrowding (NSGA-II's default survival) uses
                   crowding_all = the same function applied to all points as one set
  hypervolume.json  pymoo.indicators.hv.HV(ref_point=ref)(F) (moocore underneath) for 1-D to 5-D
                 sets; the sets contain duplicates, ties, dominated points and points that do not
                 strictly dominate the reference point (those count for nothing).

JSON schema:
  sorting.json:     {"pymoo_version": str, "cases": [{"name": str, "points": [[f64; m]; n],
                     "fronts": [[usize]], "crowding": [[f64 | null]] (per front, per member in
                     front order), "crowding_all": [f64 | null]}]}
  hypervolume.json: {"pymoo_version": str, "cases": [{"name": str, "points": [[f64; m]; n],
                     "reference": [f64; m], "hv": f64}]}
  null stands for +infinity (boundary points of the crowding distance); JSON has no infinity.
Floats are float64 written as Python floats (repr round-trips exactly).

Run:
  python3 scripts/make_pymoo_fixtures.py
with pymoo and numpy installed (pip install pymoo numpy). Generated with pymoo 0.6.2
(moocore 0.3.2), numpy 2.4.6, Python 3.11.7. Deterministic: fixed numpy seed.
"""

import json
import math
import os

import numpy as np
import pymoo
from pymoo.indicators.hv import HV
from pymoo.operators.survival.rank_and_crowding.metrics import get_crowding_function
from pymoo.util.dominator import Dominator
from pymoo.util.nds.fast_non_dominated_sort import fast_non_dominated_sort
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "crates", "bitgru", "tests", "fixtures", "pymoo"
)


def inf_to_none(xs):
    out = []
    for x in xs:
        x = float(x)
        assert not math.isnan(x)
        out.append(None if x == math.inf else x)
    return out


def sorting_case(name, F):
    F = np.asarray(F, dtype=float)
    fronts = NonDominatedSorting().do(F)
    # Cross-check with pymoo's own Deb et al. implementation (sets per front).
    deb = fast_non_dominated_sort(F, dominator=Dominator())
    assert [sorted(f) for f in deb] == [sorted(f.tolist()) for f in fronts], name
    cd = get_crowding_function("cd")
    crowding = [inf_to_none(cd.do(F[f])) for f in fronts]
    return {
        "name": name,
        "points": F.tolist(),
        "fronts": [[int(i) for i in f] for f in fronts],
        "crowding": crowding,
        "crowding_all": inf_to_none(cd.do(F)),
    }


def hv_case(name, F, ref):
    F = np.asarray(F, dtype=float)
    ref = np.asarray(ref, dtype=float)
    return {
        "name": name,
        "points": F.tolist(),
        "reference": ref.tolist(),
        "hv": float(HV(ref_point=ref)(F)),
    }


def main():
    rng = np.random.default_rng(20240219)
    sorting = []
    # Integer-valued sets: many ties and exact duplicates.
    sorting.append(sorting_case("int2_dups", rng.integers(0, 10, size=(60, 2))))
    sorting.append(sorting_case("int3_dups", rng.integers(0, 6, size=(80, 3))))
    sorting.append(sorting_case("int4_dups", rng.integers(0, 5, size=(50, 4))))
    # Continuous sets.
    sorting.append(sorting_case("cont2", rng.random((100, 2))))
    sorting.append(sorting_case("cont3", rng.random((60, 3)) * 10.0 - 5.0))
    # A non-dominated line with duplicated points (one front, duplicates at the ends too).
    t = rng.random(20)
    line = np.stack([t, 1.0 - t], axis=1)
    line = np.concatenate([line, line[[0, 3, 3, 7]], [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]])
    sorting.append(sorting_case("line2_dups", line))
    # One objective constant: a degenerate range (pymoo's norm 0 -> that objective adds nothing).
    deg = np.stack([rng.integers(0, 8, size=25).astype(float), np.full(25, 3.5)], axis=1)
    sorting.append(sorting_case("degenerate_objective", deg))
    # Constant in one objective and non-dominated in the other two.
    t = rng.random(12)
    deg3 = np.stack([t, 1.0 - t, np.full(12, -2.0)], axis=1)
    sorting.append(sorting_case("degenerate3", deg3))
    sorting.append(sorting_case("all_same", np.full((7, 2), 0.25)))
    sorting.append(sorting_case("two_points", [[0.0, 1.0], [1.0, 0.0]]))
    sorting.append(sorting_case("three_points", [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]))
    sorting.append(sorting_case("one_point", [[0.3, 0.7, 0.1]]))
    sorting.append(sorting_case("single_objective", rng.integers(0, 6, size=(15, 1))))
    sorting.append(sorting_case("mixed_scales", np.stack(
        [rng.random(40) * 1e-3, rng.integers(0, 4, size=40) * 1e4, -rng.random(40)], axis=1)))

    hv = []
    hv.append(hv_case("d1", [[0.3], [0.5], [1.2], [1.0]], [1.0]))
    hv.append(hv_case("d2_random", rng.random((50, 2)), [1.1, 1.1]))
    hv.append(hv_case("d2_int_dups", rng.integers(0, 8, size=(40, 2)), [7.0, 7.0]))
    hv.append(hv_case("d2_front", line, [1.1, 1.1]))
    hv.append(hv_case("d2_outside", [[0.5, 1.2], [1.2, 0.5], [1.0, 0.1], [0.1, 1.0], [0.9, 0.9]],
                      [1.0, 1.0]))
    hv.append(hv_case("d2_empty", np.zeros((0, 2)), [1.0, 1.0]))
    hv.append(hv_case("d3_random", rng.random((40, 3)), [1.0, 1.0, 1.0]))
    hv.append(hv_case("d3_int_dups", rng.integers(0, 5, size=(60, 3)), [4.5, 5.0, 4.0]))
    u = rng.random((30, 3))
    sphere = u / np.linalg.norm(u, axis=1, keepdims=True)
    hv.append(hv_case("d3_sphere", sphere, [1.1, 1.1, 1.1]))
    hv.append(hv_case("d4_random", rng.random((25, 4)), [1.0, 1.0, 1.0, 1.0]))
    hv.append(hv_case("d4_int_dups", rng.integers(0, 4, size=(30, 4)), [3.0, 4.0, 4.0, 3.5]))
    hv.append(hv_case("d5_random", rng.random((15, 5)) * 2.0 - 1.0, [1.0, 1.0, 1.0, 1.0, 1.0]))

    os.makedirs(OUT, exist_ok=True)
    for fname, cases in (("sorting.json", sorting), ("hypervolume.json", hv)):
        with open(os.path.join(OUT, fname), "w") as f:
            json.dump({"pymoo_version": pymoo.__version__, "cases": cases}, f, allow_nan=False)
            f.write("\n")
        print(f"wrote {fname}: {len(cases)} cases")


if __name__ == "__main__":
    main()
