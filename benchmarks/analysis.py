"""Benchmark cxlab.analysis on seeded responses: NPS by store, drivers, segment comparison.

Prints each step's time, a same-run baseline (a plain pandas groupby mean of the NPS
column by store over the same frame) and the ratio. The seeded restaurant survey has 8
stores; the frame's ``store`` is replaced by 200 stores of unequal size so the by-store
steps do the work of a 200-store chain.

    .venv/bin/python benchmarks/analysis.py --responses 1000000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from cxlab.analysis import compare_segments, drivers, nps_by
from cxlab.seed import generate_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition

TARGET_SECONDS = 1.5


def timed(step: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` runs, in seconds (the first run also warms caches)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    items = list(definition.roles().items)
    started = time.perf_counter()
    frame = generate_responses(definition, args.responses, seed=1)
    sizes = np.linspace(1.0, 0.15, args.stores) ** 2
    codes = np.random.default_rng(1).choice(args.stores, len(frame), p=sizes / sizes.sum())
    frame["store"] = np.asarray([f"store-{i:03d}" for i in range(args.stores)])[codes]
    print(f"generated {len(frame):,} responses, {args.stores} stores, {len(items)} items "
          f"in {time.perf_counter() - started:.1f} s (not timed below)")

    steps = {
        f"nps_by store ({args.stores} stores, 95% CI)":
            lambda: nps_by(frame, "nps", by="store"),
        f"drivers ({len(items)} items, LMG via pingouin + 200 bootstrap CIs, listwise)":
            lambda: drivers(frame, "nps", items, definition=definition),
        "compare_segments nps by store (omnibus + all pairs, Holm)":
            lambda: compare_segments(frame, "nps", "store"),
    }
    baseline = timed(lambda: frame.groupby("store")["nps"].mean(), args.repeat)
    print(f"\n{'step':<78} {'time':>8} {'× baseline':>11}")
    total = 0.0
    for name, step in steps.items():
        seconds = timed(step, args.repeat)
        total += seconds
        print(f"{name:<78} {seconds:>7.3f}s {seconds / baseline:>10.1f}×")
    print(f"{'total':<78} {total:>7.3f}s {total / baseline:>10.1f}×")
    print(f"{'baseline: frame.groupby(store)[nps].mean()':<78} {baseline:>7.3f}s")
    verdict = "met" if total <= TARGET_SECONDS else "NOT met"
    print(f"\ntarget ≤ {TARGET_SECONDS} s total for {len(frame):,} responses: {verdict}")


if __name__ == "__main__":
    main()
