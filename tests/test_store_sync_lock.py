"""Two syncs of one store at once, on one PostgreSQL: the second waits for the first
(an advisory lock), so no response is appended twice and, on S3, neither takes the
other's uncommitted part files for leftovers. Real PostgreSQL, the local S3 server,
real processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from cxlab.config import Config
from cxlab.db import Database
from cxlab.store import Store, sync, verify
from cxlab.store.sync_lock import exclusive_sync
from sqlalchemy import text
from test_store import SURVEY, add_survey
from test_store_s3 import assert_store_matches_database, parts

SYNC = """
import sys
from cxlab.db import Database
from cxlab.store import sync
print(sync(Database(sys.argv[1]), sys.argv[2], progress=False, batch_size=25).appended)
"""


@pytest.fixture
def postgres_database(postgres_url, environ):
    database = Database(Config.from_environ({**environ,
                                             "CXLAB_DATABASE_URL": postgres_url}).database_url)
    database.migrate()
    yield database
    database.dispose()


def waiting_for_advisory_locks(database: Database) -> int:
    with database.engine.connect() as connection:
        return connection.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))


def test_a_second_sync_waits_for_the_first(postgres_database, s3_store_url):
    database, url = postgres_database, s3_store_url
    add_survey(database, "acme", 120)
    reports = []
    with database.engine.connect() as holder, exclusive_sync(holder, url):
        # Another sync of the same store holds the lock: this one must wait.
        second = threading.Thread(
            target=lambda: reports.append(sync(database, url, progress=False)))
        second.start()
        deadline = time.monotonic() + 120
        while waiting_for_advisory_locks(database) < 1:
            assert time.monotonic() < deadline, "the second sync never asked for the lock"
            assert second.is_alive(), "the second sync did not wait"
            time.sleep(0.1)
        assert parts(url) == []  # it has written nothing while waiting
    second.join(timeout=120)
    assert [report.appended for report in reports] == [120]
    assert verify(database, url).ok
    # Another store has another lock: its sync does not wait for this one's.
    with database.engine.connect() as holder, exclusive_sync(holder, url):
        other = f"{url}-other"
        assert sync(database, other, progress=False).appended == 120


def test_two_sync_processes_at_once_write_each_response_once(postgres_database,
                                                             s3_store_url):
    database, url = postgres_database, s3_store_url
    add_survey(database, "acme", 300)
    syncs = [subprocess.Popen([sys.executable, "-c", SYNC, database.url, url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [process.communicate(timeout=300) for process in syncs]
    assert all(process.returncode == 0 for process in syncs), results
    assert sorted(int(out.strip().splitlines()[-1]) for out, _err in results) == [0, 300]
    assert len(parts(url)) == 12  # 300 in batches of 25, each written once
    assert_store_matches_database(database, url)
    assert len(Store(url).live_files("acme", SURVEY)) == 12
