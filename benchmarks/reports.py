"""Benchmark the weekly report: many tenants' reports through the real job runner.

Seeds ``--tenants`` tenants (default 50), each with ``--responses`` restaurant responses
(default 2,000) over the eight weeks up to the report period, into a temporary SQLite
database and store; then runs the shipped ``weekly-report`` job
(notebooks/reports/weekly.ipynb → HTML) for all of them with ``cxlab.jobs.run_job``
and ``--workers`` parallel runs. Prints reports per minute and the per-report split:

- kernel start: from the papermill call to the first cell starting (papermill's own
  per-cell ``start_time``; includes reading and parameterising the notebook);
- execute: first cell start to last cell end (imports, data load, analysis);
- export: ``export_html`` (nbconvert, in the runner process);
- other: the rest (papermill teardown and writing, the job_runs bookkeeping).

Baseline, same run and same ``--workers``: papermill on a trivial one-cell notebook.

    .venv/bin/python benchmarks/reports.py --tenants 50 --responses 2000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import nbformat
import papermill
from cxlab.config import Config
from cxlab.db import Database
from cxlab.jobs import kinds, run_job
from cxlab.jobs.schedule import DEFAULT_SCHEDULE_PATH, load_schedule
from cxlab.seed import seed_responses
from cxlab.store import sync
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey
from cxlab.tenancy import create_tenant

TARGET_PER_MINUTE = 30
DATE = "2026-11-23"  # the Monday run covering 2026-11-16 – 2026-11-23
FIRST, LAST = "2026-09-28T07:00:00+09:00", "2026-11-23T07:00:00+09:00"


def seed(config: Config, tenants: int, responses: int) -> Database:
    database = Database(config.database_url)
    database.migrate()
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    for number in range(tenants):
        with database.session() as session:
            tenant = create_tenant(session, f"t{number:03d}", f"Tenant {number:03d} Dining")
            survey = publish_survey(session, tenant, definition)
        seed_responses(database, survey, definition, responses, seed=number,
                    start=datetime.fromisoformat(FIRST), end=datetime.fromisoformat(LAST))
    sync(database, config, progress=False)
    return database


class Timings:
    """Wraps papermill.execute_notebook and kinds.export_html (looked up at call time by
    NotebookKind) to record each report's split; thread-safe."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.current = threading.local()
        self.lock = threading.Lock()
        self.execute_notebook = papermill.execute_notebook
        self.export_html = kinds.export_html

    def install(self) -> None:
        papermill.execute_notebook = self.timed_execute
        kinds.export_html = self.timed_export

    def uninstall(self) -> None:
        papermill.execute_notebook = self.execute_notebook
        kinds.export_html = self.export_html

    def timed_execute(self, *args, **kwargs):
        began = time.time()
        notebook = self.execute_notebook(*args, **kwargs)
        ended = time.time()
        code = [cell.metadata.papermill for cell in notebook.cells
                if cell.metadata.get("papermill", {}).get("start_time")]
        first = datetime.fromisoformat(code[0]["start_time"]).timestamp()
        last = datetime.fromisoformat(code[-1]["end_time"]).timestamp()
        self.current.row = {"kernel start": first - began, "execute": last - first,
                            "papermill after": ended - last}
        return notebook

    def timed_export(self, notebook, title: str) -> str:
        began = time.perf_counter()
        page = self.export_html(notebook, title)
        row = self.current.row
        row["export"] = time.perf_counter() - began
        with self.lock:
            self.rows.append(row)
        return page


def baseline(workers: int, runs: int, folder: Path) -> tuple[float, float]:
    """Runs per minute and median seconds of papermill on a trivial notebook."""
    parameters = nbformat.v4.new_code_cell('tenant = "t"')
    parameters.metadata["tags"] = ["parameters"]
    source = folder / "baseline.ipynb"
    nbformat.write(nbformat.v4.new_notebook(
        cells=[parameters, nbformat.v4.new_code_cell("print(tenant)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}}), source)

    def one(number: int) -> float:
        began = time.perf_counter()
        papermill.execute_notebook(str(source), str(folder / f"baseline-{number}.ipynb"),
                                   parameters={"tenant": f"t{number}"}, kernel_name="python3",
                                   progress_bar=False, cwd=str(folder))
        return time.perf_counter() - began

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        times = list(pool.map(one, range(runs)))
    return runs / (time.perf_counter() - began) * 60, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--responses", type=int, default=2000, help="per tenant")
    parser.add_argument("--workers", type=int, default=2, help="reports run in parallel")
    parser.add_argument("--baseline-runs", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cxlab-bench-reports-") as folder:
        environ = {"CXLAB_VAR_DIR": folder, "CXLAB_ENV": "test"}
        os.environ.update(environ)  # the report kernels read their config from it
        config = Config.from_environ(environ)
        began = time.perf_counter()
        database = seed(config, args.tenants, args.responses)
        print(f"seeded {args.tenants} tenants × {args.responses:,} responses and synced in "
              f"{time.perf_counter() - began:.1f} s ({os.cpu_count()} cores)")

        base_rate, base_median = baseline(args.workers, args.baseline_runs, Path(folder))

        timings = Timings()
        timings.install()
        began = time.perf_counter()
        try:
            outcome = run_job(config, database, "weekly-report", date=DATE,
                              schedule=load_schedule(DEFAULT_SCHEDULE_PATH),
                              workers=args.workers)
        finally:
            timings.uninstall()
        elapsed = time.perf_counter() - began
        database.dispose()

    failed = [result for result in outcome.results if result.status != "succeeded"]
    rate = len(outcome.results) / elapsed * 60
    print(f"\n{len(outcome.results)} reports ({len(failed)} failed) in {elapsed:.1f} s with "
          f"{args.workers} workers: {rate:.1f} reports/min (target ≥ {TARGET_PER_MINUTE}: "
          f"{'met' if rate >= TARGET_PER_MINUTE and not failed else 'NOT met'})")
    print(f"baseline, trivial notebook via papermill, {args.baseline_runs} runs with "
          f"{args.workers} workers: {base_rate:.1f} runs/min, median {base_median:.2f} s each")
    print("\nper report (median of the reports, seconds):")
    total = 0.0
    for step in ("kernel start", "execute", "export", "papermill after"):
        value = statistics.median(row[step] for row in timings.rows)
        total += value
        print(f"  {step:16} {value:6.2f}")
    print(f"  {'sum':16} {total:6.2f}   (wall per report × workers: "
          f"{elapsed / max(len(outcome.results), 1) * args.workers:.2f})")
    for result in failed[:3]:
        print(f"failed: {result.tenant}: {result.error}")


if __name__ == "__main__":
    main()
