"""How fast `cxlab sync` fills the analytic store and how fast notebooks load from it.

One tenant gets ``--responses`` complete responses of the restaurant survey (another
tenant a tenth as many, so the load really picks one tenant). Measured in the same run:

- sync from SQLite to a local Parquet store, in responses/s (target >= 100,000/s);
- ``load_responses`` of the big tenant's survey, all columns, typed (target <= 0.3 s
  for 1,000,000), against the baseline ``pandas.read_sql`` of the same rows (answers
  and attributes as JSON text, as a notebook without the store would read them);
  the ratio is printed.

    .venv/bin/python benchmarks/store.py --responses 1000000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import pandas as pd
from cxlab import seed, tenancy
from cxlab.config import Config
from cxlab.db import Database
from cxlab.store import load_responses, sync, verify
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey

LOAD_RUNS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    count = parser.parse_args().responses
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    with tempfile.TemporaryDirectory() as folder:
        config = Config.from_environ({"CXLAB_VAR_DIR": folder, "CXLAB_ENV": "test"})
        database = Database(config.database_url)
        database.migrate()
        for slug, size, seed_number in (("big", count, 1), ("small", count // 10, 2)):
            with database.session() as session:
                tenant = tenancy.create_tenant(session, slug, slug)
                survey = publish_survey(session, tenant, definition)
            seed.seed_responses(database, survey, definition, size, seed=seed_number)

        report = sync(database, config, progress=False)
        if not verify(database, config).ok:
            raise SystemExit("verification failed after sync")

        timings = []
        for _ in range(LOAD_RUNS):
            started = time.perf_counter()
            frame = load_responses(config, "big", definition.slug)
            timings.append(time.perf_counter() - started)
        load = statistics.median(timings)

        started = time.perf_counter()
        baseline_frame = pd.read_sql(
            "SELECT r.id, r.submitted_at, r.invitation_id, r.survey_version, r.attributes, "
            "r.answers FROM responses r JOIN tenants t ON t.id = r.tenant_id "
            "WHERE t.slug = 'big' AND r.status = 'complete' ORDER BY r.id",
            database.engine,
        )
        baseline = time.perf_counter() - started
        assert len(baseline_frame) == len(frame) == count
        database.dispose()

    print(f"responses (big tenant):            {count:,} (+{count // 10:,} other tenant)")
    print(f"sync SQLite -> Parquet:            {report.seconds:6.2f} s "
          f"{report.rate:>10,.0f} responses/s  (target >= 100,000/s)")
    print(f"load_responses, {frame.shape[1]} typed columns:  {load:6.3f} s  "
          f"(median of {LOAD_RUNS}; target <= 0.3 s per 1,000,000)")
    print(f"baseline pandas.read_sql (JSON):   {baseline:6.2f} s")
    print(f"ratio read_sql / load_responses:   {baseline / load:6.1f}x")


if __name__ == "__main__":
    main()
