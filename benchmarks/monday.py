"""Benchmark "Monday morning": a chain's store managers all open their dashboards at once.

Seeds one chain tenant (default 1,000,000 restaurant answers; ``--var-dir`` keeps them
for the next run), syncs it and renders its opening views as ``cxlab sync`` does
(snapshots with chart images, and the static opening pages), then starts the production
dashboard server (``cxlab serve dashboards``, default caps and warm pool) and
lets ``--viewers`` managers arrive at random over ``--minutes``, each with their own
token:

- every viewer fetches the page over HTTP and everything it loads (images, CSS, JS that
  are not inline); "fully shown" = the last byte of the last of them;
- a sample (``--browser-share``) opens it in headless Chromium instead: "fully shown" =
  every chart image, the "fix first" list and the comments visible;
- ``--filter-share`` of the viewers (default 20 %) then choose their store in the
  page's form in Chromium, which opens that store's static page (no kernel), and then
  "Last 30 days", which opens the live Voila dashboard with a kernel: each timed from the
  click to every chart, the "fix first" list and the comments visible;
- every page is closed when shown (a live page by closing its tab).

Also measured in the same run: a trivial one-cell Voila page in Chromium (the baseline
a kernel-backed page costs). Prints p50/p95/max per kind, errors, peak memory (sum of
PSS, see benchmarks/dashboard_memory.py) of the server and its kernels (sampled every
0.5 s), live kernels ``--linger`` seconds after the last viewer, and the ratios to the baseline.

    .venv/bin/python benchmarks/monday.py --viewers 200 --minutes 5 --var-dir /tmp/monday
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import psutil
from cxlab.config import Config
from cxlab.dashboards.hook import DASHBOARDS_DIR, spawn_dashboards
from cxlab.dashboards.prepare import refresh_snapshots
from cxlab.dashboards.tokens import DashboardTokens
from dashboard import CHROMIUM_ARGS, baseline_notebook, seed_once
from dashboard_memory import MemorySampler
from playwright.async_api import async_playwright

TENANT = "chain"
SURVEY = "store-visit"
SECRET = "benchmark-secret-" + "w" * 32
GOAL_SECONDS = 3.0
SECTIONS = ("headline", "trend", "distribution", "drivers", "ratings", "segments")
# Shown: each chart as an image (static page, or the snapshot's still image in Voila)
# or drawn by plotly.js, the "fix first" list and the comments.
SHOWN = [*(f".cx-{name} img, .cx-{name} .js-plotly-plot" for name in SECTIONS),
         ".cx-fix-first li, .cx-static .cx-drivers li", ".cx-comments li"]
LOADED = re.compile(r'<(?:img|script)[^>]+src="([^"]+)"|<link[^>]+href="([^"]+)"')


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fetch_with_resources(url: str) -> tuple[float, int, str]:
    """GET ``url`` and every image, script and stylesheet it names (not inline):
    seconds to the last byte, the page's status, and its HTML."""
    began = time.perf_counter()
    status, body = fetch(url)
    page = body.decode("utf-8", "replace")
    for found in LOADED.finditer(page):
        address = found.group(1) or found.group(2)
        if not address.startswith("data:"):
            fetch(urljoin(url, address.replace("&amp;", "&")))
    return time.perf_counter() - began, status, page


async def shown_in_browser(page, selectors: list[str]) -> None:
    for selector in selectors:
        await page.locator(selector).first.wait_for(state="visible", timeout=120_000)


class Run:
    """One Monday morning's results."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {"http": [], "browser": [], "store": [],
                                              "live": []}
        self.errors: list[str] = []

    def record(self, kind: str, seconds: float, status: int, body: str) -> None:
        if status != 200 or "cx-dashboard" not in body:
            self.errors.append(f"{kind}: {status} {re.sub(r'<[^>]+>', ' ', body)[:120]}")
        else:
            self.times[kind].append(seconds)


async def viewer(number: int, delay: float, browser, base: str, run: Run,
                 in_browser: bool, changes_filter: bool) -> None:
    await asyncio.sleep(delay)
    token = DashboardTokens(SECRET).issue(TENANT, f"manager{number}@chain.example",
                                          "overview.ipynb", survey=SURVEY)
    url = f"{base}/voila/render/overview.ipynb?token={token}&language=ja"
    if not (in_browser or changes_filter):
        seconds, status, body = await asyncio.to_thread(fetch_with_resources, url)
        run.record("http", seconds, status, body)
        return
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    try:
        began = time.perf_counter()
        response = await page.goto(url)
        await shown_in_browser(page, SHOWN)
        run.record("browser", time.perf_counter() - began, response.status, await page.content())
        if changes_filter:
            # The manager's own store over the whole period: its static page (the sync
            # renders the largest stores', CXLAB_DASHBOARD_STATIC_SEGMENTS), no kernel.
            stores = await page.locator("select[name=segment] option").count()
            await page.select_option("select[name=segment]", index=1 + number % (stores - 1))
            began = time.perf_counter()
            async with page.expect_navigation(wait_until="commit") as navigation:
                await page.locator(".cx-controls button").click()
            store = await navigation.value
            await shown_in_browser(page, SHOWN)
            run.record("store", time.perf_counter() - began, store.status,
                       await page.content())
            # Then the last 30 days of that store: the live dashboard, with a kernel.
            await page.select_option("select[name=period]", "30d")
            began = time.perf_counter()
            async with page.expect_navigation(wait_until="commit") as navigation:
                await page.locator(".cx-controls button").click()
            live = await navigation.value
            await shown_in_browser(page, SHOWN)
            await page.locator(".cx-headline .js-plotly-plot, .cx-headline img").first.wait_for()
            run.record("live", time.perf_counter() - began, live.status, await page.content())
    except Exception as error:  # noqa: BLE001 - a timeout or a refused page is a result
        run.errors.append(f"viewer {number}: {type(error).__name__}: {str(error)[:120]}")
    finally:
        await page.close(run_before_unload=True)  # a live page frees its kernel
        await context.close()


async def baseline_seconds(browser, base: str, repeat: int) -> list[float]:
    """A trivial one-cell Voila page, request → its output visible, ``repeat`` times."""
    seconds = []
    for _ in range(repeat):
        token = DashboardTokens(SECRET).issue(TENANT, "bench", "baseline.ipynb")
        page = await browser.new_page()
        began = time.perf_counter()
        await page.goto(f"{base}/voila/render/baseline.ipynb?token={token}", wait_until="commit")
        await page.locator(".jp-OutputArea-output").first.wait_for(timeout=120_000)
        seconds.append(time.perf_counter() - began)
        await page.close(run_before_unload=True)
        await asyncio.sleep(8)  # the warm pool refills, as between two clients
    return seconds


async def morning(args: argparse.Namespace, base: str, chromium: str) -> tuple[Run, list[float]]:
    rng = random.Random(args.seed)
    run = Run()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        baseline = await baseline_seconds(browser, base, args.baseline_repeat)
        arrivals = sorted(rng.uniform(0, args.minutes * 60) for _ in range(args.viewers))
        await asyncio.gather(*(
            viewer(number, delay, browser, base, run,
                   in_browser=rng.random() < args.browser_share,
                   changes_filter=rng.random() < args.filter_share)
            for number, delay in enumerate(arrivals)))
        await browser.close()
    return run, baseline


def percentiles(values: list[float]) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (f"n={len(values)}  p50 {statistics.median(ordered):.2f} s  p95 {p95:.2f} s  "
            f"max {ordered[-1]:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--viewers", type=int, default=40, help="200 for the full morning")
    parser.add_argument("--minutes", type=float, default=1.0, help="5 for the full morning")
    parser.add_argument("--filter-share", type=float, default=0.2)
    parser.add_argument("--browser-share", type=float, default=0.1,
                        help="share of the static opens measured in Chromium")
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument("--linger", type=float, default=60.0,
                        help="seconds after the last viewer before counting live kernels")
    parser.add_argument("--port", type=int, default=8898)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--var-dir", type=Path, default=None,
                        help="keep the seeded database and store here for the next run")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or sys.exit("benchmarks/monday.py needs chromium")

    with tempfile.TemporaryDirectory(prefix="cxlab-bench-monday-") as folder:
        root = Path(folder) / "dashboards"
        shutil.copytree(DASHBOARDS_DIR, root)
        baseline_notebook(root / "baseline.ipynb")
        var_dir = args.var_dir or Path(folder) / "var"
        environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test",
                   "CXLAB_SECRET_KEY": SECRET}
        config = Config.from_environ(environ)
        seed_once(config, var_dir, TENANT, args.responses)
        began = time.perf_counter()
        refresh_snapshots(config, TENANT, SURVEY)  # what `cxlab sync` does next
        print(f"opening views and static pages ready in {time.perf_counter() - began:.1f} s",
              flush=True)
        server = spawn_dashboards({**os.environ, **environ}, port=args.port, root=root,
                                  timeout=180)  # a loaded machine starts Voila slowly
        sampler = MemorySampler(psutil.Process(server.pid))
        sampler.start()
        try:
            run, baseline = asyncio.run(morning(args, f"http://127.0.0.1:{args.port}", chromium))
            time.sleep(args.linger)
            _, kernels_after = sampler.tree()
        finally:
            sampler.stop()
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a loaded machine: do not hide the real error
                server.kill()

    peak_mb = max(mb for _, mb, _ in sampler.samples)
    peak_kernels = max(kernels for _, _, kernels in sampler.samples)
    base = statistics.median(baseline)
    every_static = run.times["http"] + run.times["browser"] + run.times["store"]
    print(f"\n{args.viewers} viewers over {args.minutes:g} min, {args.responses:,} answers, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"  static page, HTTP with its resources  {percentiles(run.times['http'])}")
    print(f"  static page, Chromium (every chart)   {percentiles(run.times['browser'])}")
    print(f"  store → its static page (Chromium)    {percentiles(run.times['store'])}")
    print(f"  30 days of it → live page (kernel)    {percentiles(run.times['live'])}")
    print(f"  baseline: trivial Voila page          {percentiles(baseline)}")
    slowest = max(every_static + run.times["live"], default=float("nan"))
    verdict = "met" if slowest <= GOAL_SECONDS and not run.errors else "NOT met"
    print(f"  every page fully shown ≤ {GOAL_SECONDS:.0f} s with no error page: {verdict}")
    if every_static:
        print(f"  ratio static p95 / baseline median    "
              f"{sorted(every_static)[int(0.95 * (len(every_static) - 1))] / base:.2f}×")
    if run.times["live"]:
        print(f"  ratio live p50 / baseline median      "
              f"{statistics.median(run.times['live']) / base:.2f}×")
    print(f"  errors: {len(run.errors)}")
    for error in run.errors[:10]:
        print(f"    {error}")
    print(f"  peak memory (sum of PSS), server + kernels: {peak_mb:,.0f} MB (most kernels at "
          f"once: "
          f"{peak_kernels})")
    print(f"  kernels live {args.linger:.0f} s after the last viewer: {kernels_after}")


if __name__ == "__main__":
    main()
