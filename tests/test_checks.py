"""`cxlab check` against a real stack on loopback: green when healthy, red naming the
part when the database or Voila is down."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port
from cxlab.config import Config
from cxlab.dashboards.hook import spawn_dashboards
from cxlab.db import Database, text
from cxlab.demo import seed_store
from cxlab.jobs import run_job

from survey_server.app import create_app
from survey_server.testing import serve_in_thread

CXLAB = str(Path(sys.executable).with_name("cxlab"))
SECRET = "check-test-secret-" + "y" * 24


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A seeded, synced deployment: survey server, Voila and one scheduler run."""
    var_dir = tmp_path_factory.mktemp("check") / "var"
    environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET}
    config = Config.from_environ(environ)
    seed_store(config, {"acme": 400})
    database = Database(config.database_url)
    assert run_job(config, database, "sync").exit_code == 0  # what the scheduler runs
    dashboard_port = free_port()
    voila = spawn_dashboards({**os.environ, **environ}, port=dashboard_port)
    with serve_in_thread(create_app(config, database, log_stream=None)) as survey_url:
        yield {**environ, "CXLAB_DASHBOARD_URL": f"http://127.0.0.1:{dashboard_port}",
               "survey_url": survey_url}
    voila.terminate()
    voila.wait(timeout=10)
    database.dispose()


def check(stack: dict[str, str], **overrides: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in stack.items() if key.startswith("CXLAB_")}
    environ.update(overrides)
    return subprocess.run(
        [CXLAB, "check", "--url", stack["survey_url"]], capture_output=True, text=True,
        env={**os.environ, **environ}, timeout=120,
    )


def status_of(output: str, part: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith(part))
    return line[len(part):].split()[0]


def test_a_healthy_stack_passes_every_check(stack):
    result = check(stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed." in result.stdout
    assert "genuine token for acme honoured" in result.stdout
    for part in ("database", "analytic store", "survey server", "dashboards (Voila)",
                 "e-mail", "scheduler"):
        assert status_of(result.stdout, part) == "ok"


def test_voila_down_fails_and_names_the_dashboards(stack):
    result = check(stack, CXLAB_DASHBOARD_URL=f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert status_of(result.stdout, "dashboards (Voila)") == "FAIL"
    assert "cxlab serve dashboards" in result.stdout
    assert status_of(result.stdout, "survey server") == "ok"


def test_database_down_fails_and_names_the_database(stack):
    result = check(stack, CXLAB_DATABASE_URL=f"postgresql://nobody@127.0.0.1:{free_port()}/x")
    assert result.returncode == 1
    assert status_of(result.stdout, "database") == "FAIL"
    assert "CXLAB_DATABASE_URL" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_stale_scheduler_is_reported(stack):
    from datetime import UTC, datetime, timedelta

    from cxlab.checks import CheckFailed, check_scheduler

    database = Database(Config.from_environ(
        {k: v for k, v in stack.items() if k.startswith("CXLAB_")}).database_url)
    with pytest.raises(CheckFailed, match="is cxlab serve scheduler running"):
        check_scheduler(database, now=datetime.now(UTC) + timedelta(hours=1))
    database.dispose()


def test_a_missing_sqlite_database_is_named_and_not_created(tmp_path):
    var_dir = tmp_path / "var"
    missing = tmp_path / "gone" / "cxlab.db"
    environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET,
               "CXLAB_DATABASE_URL": f"sqlite:///{missing}"}
    result = subprocess.run(
        [CXLAB, "check", "--url", f"http://127.0.0.1:{free_port()}"], capture_output=True,
        text=True, env={**os.environ, **environ}, timeout=120,
    )
    assert result.returncode == 1
    assert status_of(result.stdout, "database") == "FAIL"
    assert f"no database at {missing}" in result.stdout
    assert "cxlab init" not in result.stdout.split(f"no database at {missing}")[0]
    assert not missing.exists() and not missing.parent.exists()  # nothing created


def test_the_database_check_opens_sqlite_read_only(config, database):
    from cxlab.checks import check_database

    database.dispose()
    before = config.var_dir.joinpath("cxlab.db").read_bytes()
    read_only = Database(config.database_url, read_only=True)
    assert check_database(read_only).startswith("migrated")
    with pytest.raises(Exception, match="readonly"), read_only.session() as session:
        session.execute(text("CREATE TABLE intruder (x)"))
    read_only.dispose()
    assert config.var_dir.joinpath("cxlab.db").read_bytes() == before
