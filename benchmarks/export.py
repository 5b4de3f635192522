"""Peak memory and time of `cxlab export` on a million responses (issue #19: 300 MB RSS).

Seeds the restaurant survey (15 questions) into a fresh SQLite database, then runs
`cxlab export --format sav` and, for comparison in the same run, `--format csv` (a pure
stream) and `--format dta`, each in its own process, and prints each one's peak RSS
(the child's ru_maxrss), time and file size.

    .venv/bin/python benchmarks/export.py --responses 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cxlab import seed, tenancy
from cxlab.db import Database
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey

LIMIT_MB = 300
CXLAB = str(Path(sys.executable).with_name("cxlab"))


def export(folder: Path, kind: str) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, bytes) of one export in a process of its own."""
    out = folder / f"export.{kind}"
    environ = {**os.environ, "CXLAB_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
               "CXLAB_VAR_DIR": str(folder / "var")}
    # A wrapper process per export, so that RUSAGE_CHILDREN holds this export alone.
    measure = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", measure, CXLAB, "export", "--tenant", "bench", "--survey",
         "store-visit", "--format", kind, "--out", str(out)],
        env=environ, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kb = int(done.stdout.strip().splitlines()[-1])
    return peak_kb / 1024, seconds, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    count = parser.parse_args().responses
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        database = Database(f"sqlite:///{folder / 'bench.db'}")
        database.migrate()
        with database.session() as session:
            survey = publish_survey(
                session, tenancy.create_tenant(session, "bench", "Bench"), definition)
        started = time.perf_counter()
        seed.seed_responses(database, survey, definition, count, seed=1)
        print(f"seeded {count:,} responses in {time.perf_counter() - started:.0f} s "
              "(not measured below)")
        database.dispose()
        print(f"{'format':<7} {'peak RSS':>10} {'time':>8} {'file':>10}")
        results = {}
        for kind in ("sav", "dta", "csv"):
            peak, seconds, size = export(folder, kind)
            results[kind] = peak
            print(f"{kind:<7} {peak:>7.0f} MB {seconds:>6.1f} s {size / 2**20:>7.0f} MB")
    verdict = "met" if results["sav"] <= LIMIT_MB else "NOT met"
    print(f"target: .sav export of {count:,} responses within {LIMIT_MB} MB RSS: {verdict}")
    print(f"(self: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
