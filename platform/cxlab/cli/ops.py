"""``cxlab check`` (an operator's verdict on a deployment, part by part) and
``cxlab ops …`` (watches over the running product)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click

from cxlab.cli.base import load_config, parse_day


@click.command("check")
@click.option("--url", "survey_url", default="http://127.0.0.1:8080", show_default=True,
              help="Base URL of the survey server.")
@click.option("--dashboard-url", default=None,
              help="Base URL of Voila (default: CXLAB_DASHBOARD_URL).")
def check_cli(survey_url: str, dashboard_url: str | None) -> None:
    """Verify a deployment: database, store, survey server, dashboards, e-mail, scheduler.

    Prints a table; exits 1 when any part fails, naming it and what to do.
    Example: cxlab check --url https://surveys.example.com
    """
    from cxlab.checks import deployment_checks, format_results, run_checks

    config = load_config()
    results = run_checks(deployment_checks(
        config, survey_url.rstrip("/"), (dashboard_url or config.dashboard_url).rstrip("/")
    ))
    click.echo(format_results(results))
    sys.exit(0 if all(result.ok for result in results) else 1)


@click.group()
def ops() -> None:
    """Operator watches over the running product (see docs/operations.md)."""


@ops.command("watch-slow")
@click.option("--date", "day", default=None,
              help="The day to watch (YYYY-MM-DD, UTC); default yesterday.")
def watch_slow(day: str | None) -> None:
    """Per-tenant latency of one day's access log; post the slow tenants to the webhook
    (CXLAB_WEBHOOK_URL). What the daily slow-requests job runs.

    Example: cxlab ops watch-slow --date 2026-11-20
    """
    from cxlab.slow_requests import watch_slow_requests  # pandas: only for this command

    config = load_config()
    watched = (parse_day(day, "--date") or datetime.now(UTC) - timedelta(days=1)).date()
    watch = watch_slow_requests(config.var_dir / "logs", watched, webhook_url=config.webhook_url)
    click.echo(watch.message)
