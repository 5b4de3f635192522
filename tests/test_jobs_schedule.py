"""The schedule file: parsing, validation messages with paths, and due-time arithmetic."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from cxlab.jobs.schedule import (
    DEFAULT_SCHEDULE_PATH,
    Job,
    ScheduleError,
    latest_due,
    load_schedule,
    next_due,
    parse_schedule,
    pending_due,
    previous_due,
)

TOKYO = ZoneInfo("Asia/Tokyo")


def job(cron: str, timezone: str = "Asia/Tokyo") -> Job:
    return Job(name="j", cron=cron, kind="sync", timezone=timezone)


def test_the_shipped_schedule_is_valid_and_has_sync_and_weekly_report():
    schedule = load_schedule(DEFAULT_SCHEDULE_PATH)
    sync, weekly = schedule.job("sync"), schedule.job("weekly-report")
    assert (sync.kind, sync.cron, sync.tenants) == ("sync", "* * * * *", None)
    assert (weekly.kind, weekly.cron, weekly.timezone) == ("notebook", "0 7 * * MON", "Asia/Tokyo")
    assert weekly.tenants == "all" and weekly.notebook.is_file()


def test_weekly_due_time_is_monday_seven_in_tokyo_even_when_utc_is_still_sunday():
    weekly = job("0 7 * * MON")
    # Sunday 22:00 UTC is Monday 07:00 in Tokyo: due exactly now counts.
    assert latest_due(weekly, datetime(2026, 11, 22, 22, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 7, 0, tzinfo=TOKYO)
    # One minute earlier, the previous Monday is the latest.
    assert latest_due(weekly, datetime(2026, 11, 22, 21, 59, tzinfo=UTC)) == datetime(
        2026, 11, 16, 7, 0, tzinfo=TOKYO)
    assert previous_due(weekly, datetime(2026, 11, 23, 7, tzinfo=TOKYO)) == datetime(
        2026, 11, 16, 7, tzinfo=TOKYO)


@pytest.mark.parametrize(("cron", "now", "expected"), [
    # the 31st skips months without one
    ("0 0 31 * *", datetime(2026, 5, 15), datetime(2026, 3, 31)),
    # last day of the month, February of a non-leap and a leap year
    ("0 0 L * *", datetime(2026, 3, 10), datetime(2026, 2, 28)),
    ("0 0 L * *", datetime(2028, 3, 10), datetime(2028, 2, 29)),
    # month and year boundaries
    ("0 9 1 * *", datetime(2027, 1, 1, 8, 59), datetime(2026, 12, 1, 9)),
    ("0 9 1 * *", datetime(2027, 1, 1, 9, 0), datetime(2027, 1, 1, 9)),
])
def test_due_times_across_month_edges(cron, now, expected):
    assert latest_due(job(cron), now.replace(tzinfo=TOKYO)) == expected.replace(tzinfo=TOKYO)


def test_a_daily_job_in_new_york_keeps_local_time_across_the_dst_change():
    daily = job("0 7 * * *", "America/New_York")
    after = next_due(daily, datetime(2026, 11, 1, 0, 0, tzinfo=UTC))  # DST ends on Nov 1
    assert after.astimezone(UTC).hour == 12  # 07:00 EST
    before = latest_due(daily, datetime(2026, 10, 31, 23, 0, tzinfo=UTC))
    assert before.astimezone(UTC).hour == 11  # 07:00 EDT


def test_catch_up_after_downtime_is_the_latest_missed_time_only():
    hourly = job("0 * * * *", "UTC")
    last = datetime(2026, 11, 20, 9, tzinfo=UTC)
    now = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
    assert pending_due(hourly, now, last, last) == datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert pending_due(hourly, now, datetime(2026, 11, 23, 12, tzinfo=UTC), last) is None
    # A fresh install does not run slots from before the scheduler started.
    assert pending_due(hourly, now, None, now) is None
    assert pending_due(hourly, now, None, datetime(2026, 11, 23, 11, 59, tzinfo=UTC)) is not None


def test_every_problem_is_reported_with_its_path(tmp_path):
    raw = {"jobs": [
        {"name": "ok", "kind": "sync", "cron": "* * * * *"},
        {"name": "Bad Name", "kind": "sync", "cron": "* * * * *"},
        {"name": "bad-cron", "kind": "sync", "cron": "61 * * * *", "timezone": "Mars/Base"},
        {"name": "nb", "kind": "notebook", "cron": "0 7 * * MON", "notebook": "missing.ipynb",
         "tenants": {"tier": "gold"}, "formats": ["pdf"], "retention": 0, "timeout": -1,
         "retries": "3", "notify": "yes", "colour": "red"},
        {"name": "cmd", "kind": "command", "cron": "@daily", "argv": "rm -rf /"},
        {"name": "ok", "kind": "fax", "cron": "0 0 * * * *"},
        "not a job",
    ]}
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(raw, root=tmp_path)
    message = str(raised.value)
    for expected in [
        "jobs[1].name: 'Bad Name'",
        "jobs[2].cron: '61 * * * *' is not a cron expression",
        "jobs[2].timezone: 'Mars/Base' is not an IANA time zone",
        "jobs[3].notebook: 'missing.ipynb' does not exist",
        "jobs[3].tenants:", "jobs[3].formats:", "jobs[3].retention:", "jobs[3].timeout:",
        "jobs[3].retries:", "jobs[3].notify:", "jobs[3].colour: unknown key",
        "jobs[4].argv: a command job needs argv: a list of strings (no shell)",
        "jobs[5].kind: 'fax'", "jobs[5].cron: '0 0 * * * *'",
        "jobs[6]: must be a mapping",
    ]:
        assert expected in message
    assert "Traceback" not in message and "jobs[0]" not in message


def test_duplicate_names_and_bad_files_are_reported_without_tracebacks(tmp_path):
    with pytest.raises(ScheduleError, match=r"jobs\[1\].name: 'a' is used by an earlier job"):
        parse_schedule({"jobs": [{"name": "a", "kind": "sync", "cron": "@hourly"}] * 2})
    broken = tmp_path / "scheduled" / "schedule.yaml"
    broken.parent.mkdir()
    broken.write_text("jobs: [unclosed")
    with pytest.raises(ScheduleError, match="not valid YAML"):
        load_schedule(broken)
    with pytest.raises(ScheduleError, match="no such schedule file"):
        load_schedule(tmp_path / "nope.yaml")
    with pytest.raises(ScheduleError, match="list under 'jobs'"):
        parse_schedule(["sync"])


def test_notebook_paths_are_relative_to_the_folder_holding_scheduled(tmp_path):
    (tmp_path / "scheduled").mkdir()
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "r.ipynb").write_text("{}")
    path = tmp_path / "scheduled" / "schedule.yaml"
    path.write_text("jobs:\n  - {name: r, kind: notebook, cron: '@daily',"
                    " notebook: reports/r.ipynb, tenants: {plan: premium}}\n")
    loaded = load_schedule(path).job("r")
    assert loaded.notebook == tmp_path / "reports" / "r.ipynb"
    assert loaded.tenants == {"plan": "premium"}


def test_a_kind_owns_its_keys_and_their_checks(monkeypatch, tmp_path):
    """The schedule asks the registry: a kind added to KINDS brings its keys and rules,
    and another kind's keys are refused by name."""
    from cxlab.jobs import kinds

    class ExportKind(kinds.JobKind):
        name = "export"
        keys = ("bucket",)

        def validate(self, item, root, problem):
            if not str(item.get("bucket", "")).startswith("s3://"):
                problem("bucket", "an export job needs an s3:// bucket")

    monkeypatch.setitem(kinds.KINDS, "export", ExportKind())
    job = parse_schedule({"jobs": [{"name": "x", "kind": "export", "cron": "@daily",
                                    "bucket": "s3://b"}]}).job("x")
    assert (job.kind, job.tenants) == ("export", None)
    with pytest.raises(ScheduleError) as raised:
        parse_schedule({"jobs": [
            {"name": "x", "kind": "export", "cron": "@daily", "bucket": "/tmp"},
            {"name": "y", "kind": "sync", "cron": "@daily", "bucket": "s3://b",
             "argv": ["true"]},
            {"name": "z", "kind": "export", "cron": "@daily", "argv": ["true"]},
        ]}, root=tmp_path)
    message = str(raised.value)
    assert "jobs[0].bucket: an export job needs an s3:// bucket" in message
    assert "jobs[1].bucket: only export jobs take bucket, not 'sync' jobs" in message
    assert "jobs[1].argv: only command jobs take argv, not 'sync' jobs" in message
    assert "jobs[2].argv: only command jobs take argv, not 'export' jobs" in message
    monkeypatch.delitem(kinds.KINDS, "export")
    with pytest.raises(ScheduleError, match=r"jobs\[0\].bucket: unknown key"):
        parse_schedule({"jobs": [{"name": "x", "kind": "sync", "cron": "@daily",
                                  "bucket": "s3://b"}]})
