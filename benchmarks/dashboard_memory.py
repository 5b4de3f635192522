"""Benchmark the dashboard server's memory: N dashboards open at once, then all closed.

Seeds one tenant (default 1,000,000 restaurant responses; ``--var-dir`` keeps them for the
next run), writes its opening-view snapshots as ``cxlab sync`` does, starts the production
dashboard server (``cxlab serve dashboards``) and opens ``--pages`` dashboards in
headless Chromium, each from its own token, all kept open. Samples the resident memory
(RSS) of the server and every kernel it started, every half second. Prints:

- peak and steady RSS (server + kernels) with N pages open, and per open page;
- the same for a trivial one-cell notebook on the same server (the baseline a Voila page
  costs, measured in the same run), and the ratio;
- live kernels 60 s after every page was closed (goal: only the warm pool).

    .venv/bin/python benchmarks/dashboard_memory.py --responses 1000000 --pages 30

The server keeps its default caps unless ``--max-kernels`` says otherwise; pages beyond a
cap get the "busy" page and are counted as refused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from cxlab.config import Config
from cxlab.dashboards.hook import DASHBOARDS_DIR, spawn_dashboards
from cxlab.dashboards.prepare import refresh_snapshots
from cxlab.dashboards.tokens import DashboardTokens
from dashboard import CHROMIUM_ARGS, baseline_notebook, seed_once
from playwright.sync_api import sync_playwright

TENANT = "bench"
GOAL_MB_PER_PAGE = 250
SECRET = "benchmark-secret-" + "m" * 32


def proportional_mb(process: psutil.Process) -> float:
    """The process's proportional set size (PSS) in MB: its own pages plus its share of
    pages it shares with others. Kernels share the code of pandas, pyarrow, scipy…
    (about 100 MB mapped by each); RSS would count those once per kernel, PSS counts
    them once in all — the sum of PSS is what the machine's memory holds."""
    with open(f"/proc/{process.pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return process.memory_info().rss / 2**20


class MemorySampler(threading.Thread):
    """Samples the memory of a process tree until stopped (the sum of PSS, and of RSS
    for comparison); keeps the series."""

    def __init__(self, root: psutil.Process, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.samples: list[tuple[float, float, int]] = []  # (time, PSS MB, kernels)
        self.rss_samples: list[tuple[float, float]] = []  # (time, RSS MB)
        self._stop_event = threading.Event()

    def tree(self) -> tuple[float, int]:
        """(sum of PSS in MB, live kernels) of the server and its children."""
        pss, _, kernels = self.tree_with_rss()
        return pss, kernels

    def tree_with_rss(self) -> tuple[float, float, int]:
        pss, rss, kernels = 0.0, 0.0, 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                rss += process.memory_info().rss / 2**20
                pss += proportional_mb(process)
                kernels += "ipykernel" in " ".join(process.cmdline())
            except (psutil.Error, OSError):
                continue
        return pss, rss, kernels

    def run(self) -> None:
        while not self._stop_event.is_set():
            pss, rss, kernels = self.tree_with_rss()
            now = time.monotonic()
            self.samples.append((now, pss, kernels))
            self.rss_samples.append((now, rss))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def open_pages(browser, port: int, notebook: str, count: int, selector: str) -> tuple[list, int]:
    """Open ``count`` pages one after another, each waiting for ``selector``."""
    pages, refused = [], 0
    tokens = DashboardTokens(SECRET)
    for number in range(count):
        token = tokens.issue(TENANT, f"manager{number}@bench.example", notebook,
                             survey="store-visit")
        page = browser.new_page(viewport={"width": 1200, "height": 1800})
        # live=1: the live page with its kernel, not the static opening page.
        response = page.goto(f"http://127.0.0.1:{port}/voila/render/{notebook}?token={token}"
                             "&period=all&live=1", wait_until="commit")
        if response is not None and response.status == 503:
            refused += 1
            page.close()
            continue
        page.locator(selector).first.wait_for(state="visible", timeout=180_000)
        pages.append(page)
    return pages, refused


def measure(browser, sampler: MemorySampler, port: int, notebook: str, count: int,
            selector: str, settle: float) -> dict:
    began = time.monotonic()
    pages, refused = open_pages(browser, port, notebook, count, selector)
    all_open = time.monotonic()
    time.sleep(settle)  # steady state: background loads finished, nothing else asked
    window = [mb for at, mb, _ in sampler.samples if at >= began]
    steady = [mb for at, mb, _ in sampler.samples if at >= all_open + settle / 2]
    steady_rss = [mb for at, mb in sampler.rss_samples if at >= all_open + settle / 2]
    for page in pages:
        page.close()
    return {"open": len(pages), "refused": refused, "peak": max(window),
            "steady": statistics.median(steady or window),
            "steady_rss": statistics.median(steady_rss) if steady_rss else float("nan"),
            "seconds": all_open - began}


def live_kernels_after(sampler: MemorySampler, seconds: float) -> int:
    time.sleep(seconds)
    return sampler.tree()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--port", type=int, default=8898)
    parser.add_argument("--var-dir", type=Path, default=None)
    parser.add_argument("--max-kernels", type=int, default=None,
                        help="CXLAB_DASHBOARD_MAX_KERNELS (and per tenant) for the server")
    parser.add_argument("--settle", type=float, default=20.0)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or sys.exit("benchmarks/dashboard_memory.py needs chromium")

    with tempfile.TemporaryDirectory(prefix="cxlab-bench-memory-") as folder:
        root = Path(folder) / "dashboards"
        shutil.copytree(DASHBOARDS_DIR, root)
        baseline_notebook(root / "baseline.ipynb")
        var_dir = args.var_dir or Path(folder) / "var"
        environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test",
                   "CXLAB_SECRET_KEY": SECRET}
        if args.max_kernels is not None:
            environ["CXLAB_DASHBOARD_MAX_KERNELS"] = str(args.max_kernels)
            environ["CXLAB_DASHBOARD_MAX_KERNELS_PER_TENANT"] = str(args.max_kernels)
        config = Config.from_environ(environ)
        seed_once(config, var_dir, TENANT, args.responses)
        refresh_snapshots(config, TENANT, "store-visit")
        server = spawn_dashboards({**os.environ, **environ}, port=args.port, root=root)
        sampler = MemorySampler(psutil.Process(server.pid))
        sampler.start()
        try:
            time.sleep(args.settle)  # the warm pool fills
            idle_mb, idle_rss, pool = sampler.tree_with_rss()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium,
                                                     args=CHROMIUM_ARGS)
                base = measure(browser, sampler, args.port, "baseline.ipynb", args.pages,
                               ".jp-OutputArea-output", args.settle)
                after_base = live_kernels_after(sampler, 60)
                board = measure(browser, sampler, args.port, "overview.ipynb", args.pages,
                                ".cx-drivers .js-plotly-plot, .cx-drivers img.plot-img",
                                args.settle)
                browser.close()
            after_board = live_kernels_after(sampler, 60)
        finally:
            sampler.stop()
            server.terminate()
            server.wait(timeout=30)

    print("memory = sum of PSS over the server and its kernels (RSS sums in brackets: they "
          "count shared library code once per process)")
    print(f"server idle with its warm pool ({pool} kernels): {idle_mb:,.0f} MB "
          f"[RSS {idle_rss:,.0f} MB]")
    for name, run, after in (("baseline (one print)", base, after_base),
                             ("dashboard, 1M answers", board, after_board)):
        per_page = (run["steady"] - idle_mb) / max(run["open"], 1)
        print(f"{name}: {run['open']} open ({run['refused']} refused) in "
              f"{run['seconds']:.0f} s; peak {run['peak']:,.0f} MB, steady "
              f"{run['steady']:,.0f} MB, {per_page:,.0f} MB per open page "
              f"[RSS {(run['steady_rss'] - idle_rss) / max(run['open'], 1):,.0f} MB]; "
              f"live kernels 60 s after closing: {after}")
    base_page = (base["steady"] - idle_mb) / max(base["open"], 1)
    board_page = (board["steady"] - idle_mb) / max(board["open"], 1)
    print(f"dashboard / baseline per page: {board_page / max(base_page, 1):.2f}×; goal ≤ "
          f"{GOAL_MB_PER_PAGE} MB per open page: "
          f"{'met' if board_page <= GOAL_MB_PER_PAGE else 'not met'}")


if __name__ == "__main__":
    main()
