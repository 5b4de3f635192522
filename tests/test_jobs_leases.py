"""Many runners, one database: scheduled jobs run exactly once per tenant and period
when two runners race on one PostgreSQL, and a runner killed mid-job has its run taken
over by a scheduler once its lease has run out. Real processes, real PostgreSQL (and
the lease rules on SQLite)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import stop_process
from cxlab import tenancy
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import JobRun
from cxlab.jobs import serve_scheduler
from cxlab.jobs.leases import (
    LOCK_EXPIRY,
    abandoned_runs,
    claim_run,
    finish_run,
    renew_lease,
)
from cxlab.jobs.schedule import load_schedule
from sqlalchemy import select, update

TENANTS = ("acme", "beta", "gamma", "delta")
# Appends "tenant period" to the log file (one write: lines never interleave), after
# a pause that makes the two runners overlap.
STAMP = ("import sys, time; time.sleep(0.2); "
         "open(sys.argv[1], 'a').write(sys.argv[2] + ' ' + sys.argv[3] + '\\n')")
# The first runner to get here hangs (it is killed); the next one finishes.
HANG_ONCE = """
import os, sys, time
log, hang_marker = sys.argv[1], sys.argv[2]
open(log, 'a').write('start\\n')
if not os.path.exists(hang_marker):
    open(hang_marker, 'w').close()
    time.sleep(600)
open(log, 'a').write('end\\n')
"""
# A cron that never comes round while a test runs, so the schedulers fire nothing of
# their own accord; runs are for its last due time.
NEW_YEAR = "0 0 1 1 *"


def write_schedule(path: Path, argv: list[str], tenants) -> Path:
    path.write_text(yaml.safe_dump({"jobs": [{
        "name": "stamp", "kind": "command", "cron": NEW_YEAR, "timezone": "UTC",
        "tenants": tenants, "argv": argv, "retries": 0, "timeout": 900,
    }]}))
    return path


@pytest.fixture
def shared_database(postgres_url, environ) -> tuple[Database, dict[str, str]]:
    """A migrated PostgreSQL schema and the environment of processes that use it."""
    database = Database(Config.from_environ({**environ,
                                             "CXLAB_DATABASE_URL": postgres_url}).database_url)
    database.migrate()
    with database.session() as session:
        for slug in TENANTS:
            tenancy.create_tenant(session, slug, slug.title())
    yield database, {**os.environ, **environ, "CXLAB_DATABASE_URL": postgres_url}
    database.dispose()


def cxlab_command() -> str:
    return str(Path(sys.executable).parent / "cxlab")


def test_two_runners_at_once_run_each_tenant_and_period_exactly_once(shared_database,
                                                                      tmp_path):
    database, env = shared_database
    log = tmp_path / "stamps.log"
    schedule = write_schedule(tmp_path / "schedule.yaml",
                              ["python", "-c", STAMP, str(log), "{tenant}", "{end_date}"],
                              "all")
    years = ["2024-06-01", "2025-06-01", "2026-06-01"]  # three periods (New Year runs)
    script = "; ".join(f"{cxlab_command()} run-job stamp --date {year} --schedule {schedule}"
                       for year in years)
    runners = [subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [runner.communicate(timeout=300)[0] for runner in runners]
    assert all(runner.returncode in (0, 3) for runner in runners), outputs

    stamps = Counter(log.read_text().splitlines())
    expected = {f"{tenant} {year[:4]}-01-01" for tenant in TENANTS for year in years}
    assert set(stamps) == expected and set(stamps.values()) == {1}, stamps
    with database.session() as session:
        rows = session.execute(select(JobRun.status, JobRun.attempt)).all()
    assert len(rows) == 12 and set(rows) == {("succeeded", 1)}


def wait_for(condition, what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.2)


def test_a_runner_killed_mid_job_is_taken_over_by_a_scheduler_after_its_lease(
    shared_database, tmp_path
):
    database, env = shared_database
    log, marker = tmp_path / "hang.log", tmp_path / "hung-once"
    schedule_path = write_schedule(tmp_path / "schedule.yaml",
                                   ["python", "-c", HANG_ONCE, str(log), str(marker)],
                                   ["acme"])
    lease = 30  # renewed every 10 s: at least 20 s are left when it is killed
    env = {**env, "CXLAB_JOB_LEASE_SECONDS": str(lease)}
    first = subprocess.Popen(
        [cxlab_command(), "run-job", "stamp", "--schedule", str(schedule_path)], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: log.exists() and "start" in log.read_text(), "the first try")
        os.killpg(first.pid, signal.SIGKILL)  # the runner and its job, mid-job
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            stop_process(first)
    with database.session() as session:
        run = session.scalar(select(JobRun))
    assert (run.status, run.attempt) == ("running", 1)
    assert run.lease_expires_at > datetime.now(UTC)  # still leased: nobody may take it

    assert abandoned_runs(database, datetime.now(UTC)) == []

    config = Config.from_environ(env)
    schedule = load_schedule(schedule_path)
    stop = threading.Event()
    scheduler = threading.Thread(target=serve_scheduler, args=(config,), kwargs={
        "stop_event": stop, "schedule": schedule, "poll_seconds": 0.5}, daemon=True)
    scheduler.start()
    try:
        wait_for(lambda: "end" in log.read_text(), "the scheduler's retry", seconds=180)

        def finished():
            with database.session() as session:
                return session.scalar(select(JobRun.status)) == "succeeded"
        wait_for(finished, "the run to be recorded")
    finally:
        stop.set()
        scheduler.join(timeout=120)
    with database.session() as session:
        run = session.scalar(select(JobRun))
    assert log.read_text().splitlines() == ["start", "start", "end"]
    assert (run.status, run.attempt, run.lease_expires_at) == ("succeeded", 2, None)


def test_a_runner_that_lost_its_lease_cannot_record_over_its_successor(database):
    key, moment = "stamp/-/2026-01-01T00:00Z", datetime(2026, 1, 1, tzinfo=UTC)
    lease = timedelta(seconds=60)
    stalled = claim_run(database, key, "stamp", None, moment, lease)
    assert claim_run(database, key, "stamp", None, moment, lease).status == "locked"
    assert abandoned_runs(database, datetime.now(UTC)) == []
    with database.session() as session:  # the stalled runner's lease runs out
        session.execute(update(JobRun).values(
            lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert abandoned_runs(database, datetime.now(UTC)) == [("stamp", None, moment)]
    successor = claim_run(database, key, "stamp", None, moment, lease)
    assert successor.status == "claimed" and successor.run_id == stalled.run_id
    assert claim_run(database, key, "stamp", None, moment, lease).status == "locked"
    # The stalled runner wakes up: it can neither renew nor record its result.
    assert not renew_lease(database, stalled)
    assert not finish_run(database, stalled, status="failed", error="stale")
    assert renew_lease(database, successor)
    assert finish_run(database, successor, status="succeeded")
    with database.session() as session:
        assert session.scalar(select(JobRun.status)) == "succeeded"
    assert claim_run(database, key, "stamp", None, moment, lease).status == "done"


def test_a_run_left_running_before_leases_existed_is_taken_over_after_hours(database):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for key, age in (("old/-/x", LOCK_EXPIRY + timedelta(minutes=1)),
                     ("recent/-/x", timedelta(minutes=5))):
        with database.session() as session:
            session.add(JobRun(job=key.split("/")[0], scheduled_for=moment, run_key=key,
                               status="running", attempt=1,
                               started_at=datetime.now(UTC) - age))
    assert [job for job, _, _ in abandoned_runs(database, datetime.now(UTC))] == ["old"]
    lease = timedelta(seconds=60)
    assert claim_run(database, "old/-/x", "old", None, moment, lease).status == "claimed"
    assert claim_run(database, "recent/-/x", "recent", None, moment, lease).status == "locked"


def test_the_lease_setting_is_checked(environ):
    assert Config.from_environ(environ).job_lease_seconds == 60
    with pytest.raises(Exception, match="CXLAB_JOB_LEASE_SECONDS"):
        Config.from_environ({**environ, "CXLAB_JOB_LEASE_SECONDS": "1"})
    assert dataclasses.replace(Config.from_environ(environ),
                               job_lease_seconds=5).job_lease_seconds == 5
