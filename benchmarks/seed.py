"""How fast `cxlab seed` fills a database, against the bare cost of writing the rows.

Baseline (same run, same machine): the identical rows, already encoded, written with
sqlite3's executemany in one transaction — the floor no seeder on SQLite can beat.
Prints responses/s for both and their ratio. Target: 1,000,000 responses < 60 s.

    .venv/bin/python benchmarks/seed.py --responses 1000000
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from cxlab import seed, tenancy
from cxlab.db import Database
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    count = parser.parse_args().responses
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'seed.db'}")
        database.migrate()
        with database.session() as session:
            survey = publish_survey(
                session, tenancy.create_tenant(session, "bench", "Bench"), definition
            )

        started = time.perf_counter()
        seed.seed_responses(database, survey, definition, count, seed=1)
        seeding = time.perf_counter() - started

        frame = seed.generate_responses(definition, count, seed=1)
        rows = list(seed._response_rows(frame, definition, survey))
        bare = sqlite3.connect(Path(folder) / "seed.db")
        bare.execute("PRAGMA journal_mode=WAL")
        bare.execute("PRAGMA synchronous=NORMAL")
        started = time.perf_counter()
        with bare:
            bare.executemany(seed._SQLITE_INSERT, rows)
        baseline = time.perf_counter() - started
        bare.close()

    print(f"responses:                       {count:,}")
    print(f"cxlab seed (generate+encode+write): {seeding:6.1f} s  {count / seeding:>10,.0f} /s")
    print(f"baseline (write pre-encoded rows):  {baseline:6.1f} s  {count / baseline:>10,.0f} /s")
    print(f"ratio seed / baseline time:         {seeding / baseline:6.2f}x")
    verdict = "met" if seeding * 1e6 / count < 60 else "MISSED"
    print(f"target 1,000,000 in < 60 s:         {verdict}")


if __name__ == "__main__":
    main()
