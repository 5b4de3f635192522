"""The per-tenant latency watch: the analysis, the webhook and the notebook."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import papermill
import pytest
from cxlab.slow_requests import (
    latency_table,
    load_access_log,
    log_path,
    slow_tenants,
    usual_p95,
    watch_slow_requests,
    write_synthetic_log,
)

PROJECT = Path(__file__).resolve().parents[1]
NOTEBOOK = PROJECT / "notebooks" / "ops" / "slow_requests.ipynb"
DAY = date(2026, 11, 20)


def test_only_the_slow_tenant_is_listed_and_posted(var_dir, webhook):
    url, received = webhook
    logs = var_dir / "logs"
    write_synthetic_log(logs, DAY, slow_tenant="sushi-co", seed=3)
    watch = watch_slow_requests(logs, DAY, threshold_ms=200, webhook_url=url)
    assert list(watch.slow["tenant"]) == ["sushi-co"]
    assert watch.posted
    assert len(received) == 1
    text = received[0]["text"]
    assert "sushi-co" in text and "cafe-co" not in text and "ramen-co" not in text


def test_nothing_is_posted_when_nothing_is_slow_unless_asked(var_dir, webhook):
    url, received = webhook
    logs = var_dir / "logs"
    write_synthetic_log(logs, DAY, slow_tenant=None)
    quiet = watch_slow_requests(logs, DAY, threshold_ms=200, webhook_url=url)
    assert quiet.slow.empty and not quiet.posted and received == []
    asked = watch_slow_requests(logs, DAY, threshold_ms=200, webhook_url=url, post_always=True)
    assert asked.posted and "no tenant slow" in received[0]["text"]


def test_a_tenant_far_above_its_usual_level_is_listed_below_the_threshold(var_dir):
    logs = var_dir / "logs"
    for back in range(1, 4):  # usual days: everyone fast
        write_synthetic_log(logs, DAY - timedelta(days=back), seed=back)
    write_synthetic_log(logs, DAY, slow_tenant="cafe-co", seed=9)  # cafe-co ~300 ms today
    usual = usual_p95(logs, DAY)
    slow = slow_tenants(load_access_log(logs, DAY), threshold_ms=10_000, usual=usual)
    assert list(slow["tenant"]) == ["cafe-co"]
    assert "its usual" in slow.loc[0, "reason"]


def test_percentiles_and_error_rates_per_tenant_and_route():
    frame = pd.DataFrame({
        "tenant": ["a"] * 100, "route": ["/r"] * 100,
        "status": [500] * 5 + [422] * 5 + [200] * 90,
        "duration_ms": [float(v) for v in range(1, 101)],
    })
    row = latency_table(frame, ["tenant", "route"]).iloc[0]
    assert row["requests"] == 100 and row["errors_5xx"] == 5 and row["errors_4xx"] == 5
    assert row["error_rate"] == pytest.approx(0.05)
    # numpy's linear interpolation, as pandas' quantile
    assert row["p50_ms"] == pytest.approx(50.5) and row["p95_ms"] == pytest.approx(95.05)


def test_the_parquet_log_is_read_like_the_json_lines(var_dir):
    logs = var_dir / "logs"
    jsonl = write_synthetic_log(logs, DAY, slow_tenant="ramen-co")
    frame = load_access_log(logs, DAY)
    frame.to_parquet(log_path(logs, DAY, "parquet"))
    jsonl.unlink()
    again = load_access_log(logs, DAY)
    pd.testing.assert_frame_equal(latency_table(frame, ["tenant"]),
                                  latency_table(again, ["tenant"]))


def test_no_log_means_no_requests(var_dir):
    watch = watch_slow_requests(var_dir / "logs", DAY)
    assert watch.requests == 0 and watch.slow.empty and watch.by_route.empty


def test_the_notebook_lists_the_slow_tenant_and_posts_it(var_dir, webhook, monkeypatch, tmp_path):
    url, received = webhook
    write_synthetic_log(var_dir / "logs", DAY, slow_tenant="ramen-co", seed=5)
    # The kernel inherits this environment: Config.for_notebook() reads it.
    monkeypatch.setenv("CXLAB_VAR_DIR", str(var_dir))
    monkeypatch.setenv("CXLAB_WEBHOOK_URL", url)
    output = tmp_path / "slow_requests.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(output), parameters={"date": DAY.isoformat()},
                               cwd=str(NOTEBOOK.parent), progress_bar=False)
    text = output.read_text()
    assert "ramen-co" in text and "webhook posted: True" in text
    assert [message["text"].count("•") for message in received] == [1]
    assert "ramen-co" in received[0]["text"]


def test_the_notebook_passes_nbval_on_a_fresh_machine(var_dir):
    # A fresh var dir: no logs, no webhook → "No requests logged" and a synthetic demo.
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CXLAB_")}
    environ["CXLAB_VAR_DIR"] = str(var_dir)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
         "--nbval-lax", "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg",
         "notebooks/ops/slow_requests.ipynb"],
        cwd=PROJECT, env=environ, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def _cxlab(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = str(Path(sys.executable).with_name("cxlab"))
    process = subprocess.run([command, *args], env={**os.environ, **environ},
                             capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in process.stderr, process.stderr
    return process


def test_cxlab_ops_watch_slow_watches_the_day_given(environ, var_dir, webhook):
    url, received = webhook
    write_synthetic_log(var_dir / "logs", DAY, slow_tenant="ramen-co", seed=5)
    write_synthetic_log(var_dir / "logs", DAY - timedelta(days=1), slow_tenant="cafe-co", seed=6)
    process = _cxlab({**environ, "CXLAB_WEBHOOK_URL": url}, "ops", "watch-slow",
                     "--date", DAY.isoformat())
    assert process.returncode == 0, process.stderr
    assert DAY.isoformat() in process.stdout and "ramen-co" in process.stdout
    assert "cafe-co" not in process.stdout
    assert [message["text"].count("•") for message in received] == [1]
    assert "ramen-co" in received[0]["text"]


def test_cxlab_ops_watch_slow_names_the_fix_for_a_bad_date(environ):
    process = _cxlab(environ, "ops", "watch-slow", "--date", "yesterday")
    assert process.returncode == 2
    assert "'yesterday' is not a date like 2026-09-01" in process.stderr


def test_run_job_slow_requests_watches_the_day_before_the_date_run_not_the_real_yesterday(
        environ, database, var_dir, webhook):
    """The daily 00:30 UTC run due on DAY covers the day before it; --date must reach the
    watch (it used to watch the real yesterday whatever the date)."""
    url, received = webhook
    covered = DAY - timedelta(days=1)
    write_synthetic_log(var_dir / "logs", covered, slow_tenant="sushi-co", seed=7)
    process = _cxlab({**environ, "CXLAB_WEBHOOK_URL": url}, "run-job", "slow-requests",
                     "--date", DAY.isoformat())
    assert process.returncode == 0, process.stdout + process.stderr
    assert "succeeded" in process.stdout
    assert len(received) == 1
    assert covered.isoformat() in received[0]["text"] and "sushi-co" in received[0]["text"]
