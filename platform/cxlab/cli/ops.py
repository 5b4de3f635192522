"""``cxlab check``: an operator's verdict on a deployment, part by part."""

from __future__ import annotations

import sys

import click

from cxlab.cli.base import load_config


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
