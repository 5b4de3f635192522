"""The job commands with another schedule file (``--schedule FILE``), as subprocesses."""

from __future__ import annotations

import re

from test_cli import cxlab  # noqa: F401 - the fixture, found by name

MARKER_JOB = """jobs:
  - name: mark
    kind: command
    cron: "0 7 * * *"
    timezone: UTC
    argv: [python, -c, "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])",
           "{marker}", "{start_date}"]
"""


def test_run_job_runs_a_job_of_the_schedule_file_given(cxlab, tmp_path, database):  # noqa: F811
    marker = tmp_path / "ran.txt"
    schedule = tmp_path / "other.yaml"
    schedule.write_text(MARKER_JOB.replace("{marker}", str(marker)), encoding="utf-8")
    unknown = cxlab("run-job", "mark", "--date", "2026-11-20", expect_ok=False)
    assert "no job 'mark' in the schedule" in unknown.stderr  # the default file has none
    done = cxlab("run-job", "mark", "--date", "2026-11-20", "--schedule", str(schedule))
    assert "succeeded" in done.stdout
    assert marker.read_text() == "2026-11-19"  # the 07:00 run of the 20th covers the 19th


def test_a_bad_schedule_file_is_named_by_run_job_and_the_scheduler(cxlab, tmp_path,  # noqa: F811
                                                                   database):
    bad = tmp_path / "bad.yaml"
    bad.write_text("jobs:\n  - {name: x, kind: nope, cron: '* * * * *'}\n", encoding="utf-8")
    for command in (("run-job", "x"), ("serve", "scheduler")):
        failed = cxlab(*command, "--schedule", str(bad), expect_ok=False)
        assert f"{bad} has 1 problem(s)" in failed.stderr
        assert "jobs[0].kind: 'nope': must be one of" in failed.stderr
    missing = cxlab("serve", "scheduler", "--schedule", str(tmp_path / "none.yaml"),
                    expect_ok=False)
    assert "none.yaml: no such schedule file" in missing.stderr


TWO_ZONES = """jobs:
  - {name: tokyo-mark, kind: command, cron: "0 7 * * *", timezone: Asia/Tokyo,
     argv: [python, -c, "pass"]}
  - {name: utc-fail, kind: command, cron: "0 7 * * *", timezone: UTC,
     argv: [python, -c, "import sys; sys.exit(4)"]}
  - {name: idle, kind: sync, cron: "0 7 * * *", timezone: UTC}
"""


def test_jobs_shows_each_jobs_next_run_in_its_timezone_and_its_last_result(
        cxlab, tmp_path, database):  # noqa: F811
    schedule = tmp_path / "zones.yaml"
    schedule.write_text(TWO_ZONES, encoding="utf-8")
    cxlab("run-job", "tokyo-mark", "--date", "2026-11-20", "--schedule", str(schedule))
    cxlab("run-job", "utc-fail", "--date", "2026-11-20", "--schedule", str(schedule),
          expect_ok=False)
    lines = cxlab("jobs", "--schedule", str(schedule)).stdout.splitlines()
    assert lines[0].split() == ["JOB", "KIND", "NEXT", "RUN", "LAST", "RUN", "FOR", "LAST",
                                "RESULT"]
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert re.search(r"tokyo-mark +command +\d{4}-\d\d-\d\d 07:00 Asia/Tokyo +"
                     r"2026-11-20 07:00 Asia/Tokyo +1 succeeded$", rows["tokyo-mark"])
    assert re.search(r"utc-fail +command +\d{4}-\d\d-\d\d 07:00 UTC +"
                     r"2026-11-20 07:00 UTC +1 failed$", rows["utc-fail"])
    assert re.search(r"idle +sync +\d{4}-\d\d-\d\d 07:00 UTC +- +never run$", rows["idle"])
    # Then the runs, newest first, as before; --failed shows only the failed runs.
    assert lines[4] == "" and lines[5].split()[:3] == ["JOB", "TENANT", "SCHEDULED"]
    failed = cxlab("jobs", "--failed").stdout.splitlines()
    assert failed[0].split()[:3] == ["JOB", "TENANT", "SCHEDULED"]
    assert len(failed) == 2 and "utc-fail" in failed[1] and "code 4" in failed[1]
