"""Benchmark one dashboard kernel's memory, step by step, in this process.

Loads what a pooled kernel imports, builds the dashboard of a seeded tenant (the
opening view from its snapshot, the answers in the background) and makes a few filter
changes, printing after each step the process's RSS, its private clean pages (library
code, shared once several kernels run) and its anonymous memory (the kernel's own),
from ``/proc/self/smaps_rollup``; and the seconds each filter change took in the kernel.

    .venv/bin/python benchmarks/dashboard_memory.py --var-dir /tmp/bench/mem  # seeds once
    ARROW_DEFAULT_MEMORY_POOL=system .venv/bin/python benchmarks/kernel_memory.py \\
        --var-dir /tmp/bench/mem

(``cxlab serve dashboards`` sets ``ARROW_DEFAULT_MEMORY_POOL=system`` for its kernels.)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

FIELDS = re.compile(r"^(Rss|Private_Clean|Anonymous):\s+(\d+)", re.MULTILINE)


def memory(label: str) -> None:
    with open("/proc/self/smaps_rollup") as rollup:
        found = {name: int(kb) // 1024 for name, kb in FIELDS.findall(rollup.read())}
    print(f"  {label:38s} RSS {found['Rss']:4d} MB   library code {found['Private_Clean']:4d} MB"
          f"   anonymous {found['Anonymous']:4d} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, required=True,
                        help="a var dir seeded by benchmarks/dashboard_memory.py")
    parser.add_argument("--tenant", default="bench")
    args = parser.parse_args()
    os.environ.update(CXLAB_VAR_DIR=str(args.var_dir), CXLAB_ENV="test")
    memory("python")
    import cxlab.dashboards.prepare  # noqa: F401 - what a pooled kernel imports
    import cxlab.dashboards.widget  # noqa: F401
    from cxlab.config import Config
    from cxlab.dashboards.data import release_free_memory
    from cxlab.dashboards.page import build_dashboard
    memory("imports")
    board = build_dashboard(Config.from_environ(), args.tenant, "store-visit", language="ja")
    memory("built (opening view from its snapshot)")
    board.data.responses  # noqa: B018 - waits for the background load
    time.sleep(1)
    memory(f"answers loaded ({len(board.data.responses):,})")
    stores = board.segments.options
    for period, store in (("30d", None), ("7d", None), ("all", stores[1][1]),
                          ("90d", stores[2][1]), ("all", "")):
        began = time.perf_counter()
        if store is not None:
            board.segments.value = store
        board.periods.value = period
        memory(f"{period} {store or ''} {time.perf_counter() - began:.2f} s")
    release_free_memory()
    memory("after the filter changes")
    print("scipy.stats imported:", "scipy.stats" in sys.modules,
          "· alembic imported:", "alembic" in sys.modules)


if __name__ == "__main__":
    main()
