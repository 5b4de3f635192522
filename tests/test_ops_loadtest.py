"""Load test and capacity report against a real, freshly started local stack (bounded
runs of a few seconds on loopback)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from cxlab.cli.loadtest import loadtest_command
from cxlab.config import Config
from cxlab.errors import CxlabError
from cxlab.loadtest import capacity, run_loadtest
from cxlab.loadtest.capacity_view import capacity_verdict
from cxlab.loadtest.scenarios import (
    API_POST,
    INVITE_OPEN,
    INVITE_SUBMIT_LAST,
    OPEN_PAGE,
    SUBMIT_LAST,
    Workload,
)
from cxlab.loadtest.stack import local_stack


def test_loadtest_against_a_local_stack_reports_figures(var_dir):
    with local_stack(var_dir / "stack", responses=200, workers=1) as stack:
        report = run_loadtest(stack.url, 5, 5, 3, workload=stack.workload,
                              weights={"respondent": 1, "invitee": 2, "kiosk": 1, "portal": 1},
                              think_scale=0.02)
        connection = sqlite3.connect(stack.database_path)
        answered = connection.execute(
            "SELECT count(*) FROM invitations WHERE responded_at IS NOT NULL").fetchone()[0]
        connection.close()
    assert report.requests > 0
    assert report.failures == 0, report.errors
    assert report.responses > 0
    assert report.p50_ms is not None and report.p95_ms is not None
    names = {row["name"] for row in report.by_request}
    assert {OPEN_PAGE, SUBMIT_LAST, API_POST, INVITE_OPEN} <= names
    invited = {row["name"]: row for row in report.by_request}[INVITE_SUBMIT_LAST]
    assert invited["requests"] > 0 and invited["failures"] == 0
    # Each successful last page stored a response and claimed its invitation.
    assert answered >= invited["requests"]


@pytest.mark.parametrize("url", [
    "https://surveys.example.com", "http://10.0.0.5:8080", "http://192.168.1.2",
    "http://localhost.example.com",
])
def test_a_target_that_is_not_loopback_is_refused(url):
    workload = Workload("t", "s", 1, "key")
    with pytest.raises(CxlabError, match="not a loopback address"):
        run_loadtest(url, 1, 1, 1, workload=workload)


def test_the_command_refuses_a_remote_target_before_touching_anything(config: Config, capsys):
    assert loadtest_command(config, "http://203.0.113.7:8080", 5, 1, 2, False) == 2
    assert "not a loopback address" in capsys.readouterr().out
    assert not (config.var_dir / "cxlab.db").exists()


def test_capacity_writes_a_report_with_figures(config: Config):
    document = capacity(config, responses=500, steps=(2, 4), step_seconds=2, plan=1000, rate=20,
                        workers=1)
    folder = config.var_dir / "reports" / "ops"
    written = json.loads((folder / "capacity.json").read_text())
    assert written["steps"] == document["steps"]
    assert [step["users"] for step in written["steps"]][0] == 2
    first = written["steps"][0]
    assert first["requests"] > 0 and first["p95_ms"] is not None
    assert {process["role"] for process in first["processes"]} >= {"server", "server worker"}
    assert all(process["rss_mb"] > 0 for process in first["processes"])
    assert written["database_bytes"] > 0
    assert written["plan"]["invitations"] == 1000
    assert written["plan"]["required_average_per_s"] == pytest.approx(1000 * 0.2 / 3600)
    if written["sustained"] is not None:
        assert written["sustained"]["failures"] == 0
    markdown = (folder / "capacity.md").read_text()
    assert "# Capacity report" in markdown and "1,000 invitations at 20%" in markdown
    assert "<svg" in (folder / "capacity.html").read_text()
    assert "1,000 invitations at 20% in the first hour" in capacity_verdict(written)
