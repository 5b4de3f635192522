"""The runner without notebooks: locking, idempotence, retries, catch-up, tenant choice."""

import threading
import time
from datetime import UTC, datetime

import cxlab.jobs.store_sync
import pytest
from cxlab import tenancy
from cxlab.cli.jobs import jobs_command, run_job_command
from cxlab.db import Database
from cxlab.db.models import JobRun
from cxlab.errors import CxlabError, NotFound
from cxlab.jobs import run_job, serve_scheduler
from cxlab.jobs.schedule import parse_schedule
from cxlab.jobs.scheduler import due_jobs, last_scheduled
from cxlab.jobs.store_sync import StoreSyncReport
from cxlab.store import SyncReport
from sqlalchemy import select

SCHEDULE = parse_schedule({"jobs": [
    {"name": "sync", "kind": "sync", "cron": "0 * * * *", "timezone": "UTC",
     "retries": 2, "retry_backoff": 0.01},
    {"name": "premium-sync", "kind": "sync", "cron": "0 * * * *", "tenants": {"plan": "premium"}},
    {"name": "echo", "kind": "command", "cron": "0 * * * *", "tenants": ["acme"],
     "argv": ["python", "-c", "import sys; sys.exit(sys.argv[1] != 'acme')", "{tenant}"]},
    {"name": "mail", "kind": "email", "cron": "0 * * * *"},
]})
AT = "2026-11-23T10:30"


class FakeSync:
    """Stands in for cxlab.jobs.store_sync.sync_store: records calls, fails as told
    (a non-zero code stands for a survey whose sync failed)."""

    def __init__(self, exit_codes=(), delay=0.0):
        self.calls = []
        self.exit_codes = list(exit_codes)
        self.delay = delay

    def __call__(self, config, tenant=None, survey=None, verify=True):
        self.calls.append((tenant, survey, verify))
        time.sleep(self.delay)
        code = self.exit_codes.pop(0) if self.exit_codes else 0
        failures = [("fake", "survey", f"sync exited with code {code}")] if code else []
        return StoreSyncReport(SyncReport(failures=failures))


@pytest.fixture
def fake_sync(monkeypatch):
    fake = FakeSync()
    monkeypatch.setattr(cxlab.jobs.store_sync, "sync_store", fake)
    return fake


def run_due_jobs(config, database, schedule, now, started_at, *, workers=2):
    """One scheduler poll, run in the foreground (what the loop does, minus threads)."""
    return [
        run_job(config, database, job.name, date=moment, schedule=schedule, workers=workers)
        for job, moment in due_jobs(schedule, now, last_scheduled(database), started_at)
    ]


def runs(database):
    with database.session() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_the_sync_kind_calls_the_stores_sync_command(config, database, fake_sync):
    outcome = run_job(config, database, "sync", date=AT, schedule=SCHEDULE)
    assert outcome.exit_code == 0
    assert fake_sync.calls == [(None, None, True)]
    [run] = runs(database)
    assert (run.status, run.attempt, run.tenant_id) == ("succeeded", 1, None)
    assert run.scheduled_for == datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_a_successful_run_is_not_redone(any_database, config, fake_sync):
    assert run_job(config, any_database, "sync", date=AT, schedule=SCHEDULE).exit_code == 0
    again = run_job(config, any_database, "sync", date="2026-11-23T10:59", schedule=SCHEDULE)
    assert [result.status for result in again.results] == ["done"]
    assert len(fake_sync.calls) == 1 and len(runs(any_database)) == 1
    # The next hour is a different run.
    run_job(config, any_database, "sync", date="2026-11-23T11:00", schedule=SCHEDULE)
    assert len(fake_sync.calls) == 2


def test_a_failed_try_is_retried_with_backoff_then_succeeds(config, database, fake_sync):
    fake_sync.exit_codes = [1, 1]
    waits = []
    outcome = run_job(config, database, "sync", date=AT, schedule=SCHEDULE, sleep=waits.append)
    assert outcome.results[0].status == "succeeded" and outcome.results[0].attempts == 3
    assert waits == [0.01, 0.02]
    [run] = runs(database)
    assert (run.status, run.attempt, run.error) == ("succeeded", 3, None)


def test_a_failed_run_can_be_rerun_and_keeps_counting_tries(config, database, fake_sync):
    fake_sync.exit_codes = [2, 2, 2]
    failed = run_job(config, database, "sync", date=AT, schedule=SCHEDULE, sleep=lambda _: None)
    assert failed.exit_code == 1 and "sync exited with code 2" in failed.results[0].error
    assert runs(database)[0].status == "failed"
    rerun = run_job(config, database, "sync", date=AT, schedule=SCHEDULE)
    assert rerun.exit_code == 0
    [run] = runs(database)
    assert (run.status, run.attempt) == ("succeeded", 4)


def test_two_runners_at_once_make_one_run(any_database, config, fake_sync):
    fake_sync.delay = 0.5
    barrier = threading.Barrier(2)
    outcomes = []

    def runner():
        # Each runner has its own engine, as two processes or machines would.
        database = Database(any_database.url)
        barrier.wait()
        outcomes.append(run_job(config, database, "sync", date=AT, schedule=SCHEDULE))
        database.dispose()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome.results[0].status for outcome in outcomes) == ["locked", "succeeded"]
    assert sorted(outcome.exit_code for outcome in outcomes) == [0, 3]
    assert len(fake_sync.calls) == 1 and len(runs(any_database)) == 1


def test_the_scheduler_catches_up_a_missed_run_once(config, database, fake_sync):
    run_job(config, database, "sync", date="2026-11-20T09:00", schedule=SCHEDULE)
    only_sync = parse_schedule({"jobs": [{"name": "sync", "kind": "sync", "cron": "0 * * * *",
                                          "timezone": "UTC"}]})
    started = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    # Three days down: one run, for the latest missed hour.
    first = run_due_jobs(config, database, only_sync, datetime(2026, 11, 23, 12, 30, tzinfo=UTC),
                         started)
    assert [outcome.scheduled_for.hour for outcome in first] == [12]
    assert run_due_jobs(config, database, only_sync,
                        datetime(2026, 11, 23, 12, 45, tzinfo=UTC), started) == []
    assert len(fake_sync.calls) == 2 and len(runs(database)) == 2


def test_tenants_are_chosen_by_plan_and_list(config, database, fake_sync):
    with database.session() as session:
        tenancy.create_tenant(session, "acme", "Acme", plan="premium")
        tenancy.create_tenant(session, "basic", "Basic")
    outcome = run_job(config, database, "premium-sync", date=AT, schedule=SCHEDULE)
    assert [result.tenant for result in outcome.results] == ["acme"]
    assert fake_sync.calls == [("acme", None, True)]
    with pytest.raises(CxlabError, match="not among job 'premium-sync'"):
        run_job(config, database, "premium-sync", tenant="basic", date=AT, schedule=SCHEDULE)
    with pytest.raises(NotFound, match="no tenant 'ghost'"):
        run_job(config, database, "premium-sync", tenant="ghost", date=AT, schedule=SCHEDULE)
    with pytest.raises(NotFound, match="no job 'nope'"):
        run_job(config, database, "nope", schedule=SCHEDULE)
    # The command kind gets the tenant's slug in its argv (no shell involved).
    assert run_job(config, database, "echo", date=AT, schedule=SCHEDULE).exit_code == 0


def test_command_jobs_find_the_projects_python_without_the_virtualenv_on_path(
        config, database, monkeypatch):
    """Cron and systemd start the scheduler with a bare PATH: `python` in a schedule must
    still be this installation's interpreter (the one that can import cxlab)."""
    schedule = parse_schedule({"jobs": [
        {"name": "ops", "kind": "command", "cron": "0 * * * *",
         "argv": ["python", "-c", "import cxlab"], "retries": 0},
    ]})
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert run_job(config, database, "ops", date=AT, schedule=schedule).exit_code == 0


def test_the_email_kind_sends_the_outbox(config, database):
    outcome = run_job(config, database, "mail", date=AT, schedule=SCHEDULE)
    assert outcome.exit_code == 0  # nothing queued: nothing to send


def test_the_cli_functions_print_a_summary_and_a_table(config, database, fake_sync, capsys,
                                                        monkeypatch):
    monkeypatch.setattr("cxlab.jobs.runner.load_schedule", lambda: SCHEDULE)
    assert run_job_command(config, "sync", None, AT) == 0
    fake_sync.exit_codes = [5, 5, 5]
    assert run_job_command(config, "sync", None, "2026-11-23T11:00") == 1
    out = capsys.readouterr().out
    assert "(all tenants): succeeded after 1 try" in out
    assert "failed after 3 tries" in out and "rerun the same command" in out
    jobs_command(config, failed_only=True, limit=10)
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["JOB", "TENANT", "SCHEDULED"]
    assert len(table) == 2 and "failed" in table[1] and "code 5" in table[1]
    with pytest.raises(CxlabError, match="use YYYY-MM-DD"):
        run_job_command(config, "sync", None, "next monday")


def test_the_scheduler_loop_fires_a_missed_job_once_and_stops_when_asked(
        config, database, fake_sync):
    daily = parse_schedule({"jobs": [{"name": "sync", "kind": "sync", "cron": "0 0 * * *",
                                      "timezone": "UTC"}]})
    run_job(config, database, "sync", date="2020-01-01", schedule=daily)
    stop = threading.Event()
    loop = threading.Thread(target=serve_scheduler, args=(config,),
                            kwargs={"stop_event": stop, "schedule": daily, "poll_seconds": 0.05})
    loop.start()
    deadline = time.monotonic() + 10
    while len(fake_sync.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # several more polls: none may fire again
    stop.set()
    loop.join(timeout=10)
    assert not loop.is_alive()
    assert len(fake_sync.calls) == 2
    assert [run.status for run in runs(database)] == ["succeeded", "succeeded"]


def test_a_notebook_job_reports_in_the_tenants_language_unless_the_job_sets_one(
        config, database):
    from cxlab.jobs.kinds import RunContext, notebook_parameters
    from cxlab.jobs.runner import _tenants_of

    schedule = parse_schedule({"jobs": [
        {"name": "weekly", "kind": "notebook", "notebook": "notebooks/reports/weekly.ipynb",
         "cron": "0 7 * * MON", "tenants": "all"},
        {"name": "weekly-en", "kind": "notebook", "notebook": "notebooks/reports/weekly.ipynb",
         "cron": "0 7 * * MON", "tenants": "all", "parameters": {"language": "en"}},
    ]})
    with database.session() as session:
        tenancy.create_tenant(session, "acme", "Acme", language="en")
        tenancy.create_tenant(session, "kita", "Kita")
    at = datetime(2026, 11, 23, tzinfo=UTC)

    def language(job, slug):
        info = dict((row[1].slug, row[1]) for row in _tenants_of(database, job, None))[slug]
        context = RunContext(config=config, job=job, tenant=info, scheduled_for=at,
                             start=at, end=at)
        return notebook_parameters(context)["language"]

    weekly, weekly_en = schedule.job("weekly"), schedule.job("weekly-en")
    assert language(weekly, "acme") == "en"
    assert language(weekly, "kita") == "ja"
    assert language(weekly_en, "kita") == "en"
