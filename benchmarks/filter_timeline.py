"""Benchmark what a filter change on the live dashboard shows, and when: for each
section, the milliseconds from choosing the option to its new content in the page.

Serves the tenant a run of ``benchmarks/dashboard.py --var-dir DIR`` seeded and synced
(``cxlab serve dashboards`` on loopback), opens its live page in headless Chromium, waits
``--pause`` seconds (the answers load in the background meanwhile, as while a person
reads), then chooses each period in turn and prints when the KPI cards, each chart and
the page's timing mark (written after the drivers) were replaced or redrawn, from a
MutationObserver in the page; and when each section settled (its last change, redraws
included: comparable between ways of drawing the charts).

    .venv/bin/python benchmarks/dashboard.py --var-dir /tmp/bench/dash   # seeds once
    .venv/bin/python benchmarks/filter_timeline.py --var-dir /tmp/bench/dash
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from cxlab.config import Config
from cxlab.dashboards.hook import spawn_dashboards
from cxlab.dashboards.tokens import DashboardTokens
from playwright.sync_api import sync_playwright

SECRET = "benchmark-secret-" + "b" * 32  # benchmarks/dashboard.py's
SECTIONS = [".cx-kpi-cards", *(f".cx-{name} .js-plotly-plot" for name in (
    "headline", "trend", "distribution", "ratings", "segments", "drivers")), ".cx-timings"]
# The KPI cards and the timing mark are new elements after a change; a chart is the same
# plot drawn again (cxlab.dashboards.chart_widget counts its draws in data-draws).
WATCH = """sections => {
  document.querySelectorAll('.cx-kpi-cards, .cx-timings')
    .forEach(e => { e.dataset.old = '1'; });
  document.querySelectorAll('.js-plotly-plot')
    .forEach(e => { e.dataset.old = e.dataset.draws; });
  const fresh = section => section.includes('js-plotly-plot')
    ? Array.from(document.querySelectorAll(section)).some(
        e => e.dataset.draws !== undefined && e.dataset.draws !== e.dataset.old)
    : !!document.querySelector(section + ':not([data-old])');
  window.cxMarks = {};
  window.cxStart = performance.now();
  new MutationObserver(() => {
    for (const section of sections) {
      if (!(section in window.cxMarks) && fresh(section))
        window.cxMarks[section] = Math.round(performance.now() - window.cxStart);
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['data-draws']});
}"""
# The same for any way of drawing (a new plot per change, or one updated in place): the
# time of the last change inside each section, i.e. when it settled (redraws included).
SETTLED_SECTIONS = ("kpis", "headline", "trend", "distribution", "ratings", "segments",
                    "drivers")
WATCH_SETTLED = """sections => {
  window.cxSettled = {};
  const began = performance.now();
  new MutationObserver(records => {
    const now = Math.round(performance.now() - began);
    for (const record of records) {
      const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      for (const name of sections)
        if (node && node.closest('.cx-' + name)) window.cxSettled[name] = now;
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             characterData: true});
}"""
# PERIODS is all, 90d, 30d, 7d: the option index of each change, in order.
CHANGES = (("last 30 days", 2), ("last 7 days", 3), ("last 90 days", 1), ("all", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, required=True)
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--port", type=int, default=8893)
    parser.add_argument("--pause", type=float, default=5.0)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or sys.exit("needs chromium")
    environ = {"CXLAB_VAR_DIR": str(args.var_dir), "CXLAB_ENV": "test",
               "CXLAB_SECRET_KEY": SECRET}
    config = Config.from_environ(environ)
    server = spawn_dashboards({**os.environ, **environ}, port=args.port)
    try:
        token = DashboardTokens(config.secret_key).issue(
            args.tenant, "bench", "overview.ipynb", survey="store-visit")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium,
                                                 args=["--headless", "--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 1800})
            page.goto(f"http://127.0.0.1:{args.port}/voila/render/overview.ipynb"
                      f"?token={token}&live=1")
            page.locator(".cx-drivers .js-plotly-plot, .cx-drivers img.plot-img").first.wait_for(
                timeout=180_000)
            print(f"ms from the choice to each section's new content ({os.cpu_count()} "
                  f"cores, load {os.getloadavg()[0]:.1f}):")
            for name, index in CHANGES:
                time.sleep(args.pause)
                page.evaluate(WATCH, SECTIONS)
                page.evaluate(WATCH_SETTLED, SETTLED_SECTIONS)
                page.locator(".cx-controls select").first.select_option(index=index)
                page.locator(".cx-timings:not([data-old])").first.wait_for(
                    state="attached", timeout=120_000)
                time.sleep(3)  # charts still being drawn
                marks = page.evaluate("window.cxMarks")
                shown = "  ".join(f"{section.split()[0][4:]} {marks[section]}"
                                  for section in SECTIONS if section in marks)
                print(f"  {name:13s} {shown}")
                settled = page.evaluate("window.cxSettled")
                print(f"  {'  settled':13s} " + "  ".join(
                    f"{section} {settled[section]}" for section in SETTLED_SECTIONS
                    if section in settled))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
