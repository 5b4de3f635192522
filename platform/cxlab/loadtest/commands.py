"""The CLI's side of load testing: ``cxlab loadtest`` and ``cxlab capacity``.

Each returns the process exit code (0 when the run held: no failed request; for
capacity, when a step held and any send plan holds) and prints a short summary.

>>> from cxlab.config import Config
>>> config = Config.from_environ({"CXLAB_VAR_DIR": "/tmp/cxlab-doc-loadtest"})
>>> loadtest_command(config, "https://surveys.example.com", 10, 2, 5, False)  # doctest: +ELLIPSIS
refusing to load https://surveys.example.com: not a loopback address; ...
2
"""

from __future__ import annotations

import click

from cxlab.config import Config
from cxlab.db import Database
from cxlab.errors import CxlabError
from cxlab.loadtest.capacity import DEFAULT_STEPS, capacity
from cxlab.loadtest.runner import is_loopback, prepare_workload, run_loadtest


def loadtest_command(
    config: Config, target: str, users: int, spawn_rate: float, duration: float,
    allow_remote: bool,
) -> int:
    """Run the mixed load (respondents, invitees, kiosks, portal clients) against ``target``.

    The load-test tenant, survey, API key, portal user and invitations are created in
    ``config``'s database, so ``target`` must be a server of that database.
    """
    if not allow_remote and not is_loopback(target):
        click.echo(f"refusing to load {target}: not a loopback address; "
                   "pass --allow-remote if you mean it")
        return 2
    try:
        database = Database(config.database_url)
        try:
            workload = prepare_workload(database)
        finally:
            database.dispose()
        report = run_loadtest(target, users, spawn_rate, duration, workload=workload,
                              allow_remote=allow_remote)
    except CxlabError as error:
        click.echo(str(error), err=True)
        return 1
    click.echo(report.summary())
    for row in report.by_request:
        click.echo(f"  {row['name']}: {row['requests']} requests, {row['failures']} failed, "
                   f"p95 {row['p95_ms']} ms")
    for error in report.errors:
        click.echo(f"  error: {error}")
    return 0 if report.failures == 0 else 1


def capacity_command(
    config: Config, responses: int, steps: tuple[int, ...] | None, step_seconds: float,
    plan: int | None, rate: float | None,
) -> int:
    """Stepped load against a fresh local stack seeded with ``responses`` responses;
    writes var/reports/ops/capacity.{json,md,html}."""
    try:
        document = capacity(config, responses=responses, steps=steps or DEFAULT_STEPS,
                            step_seconds=step_seconds, plan=plan, rate=rate)
    except CxlabError as error:
        click.echo(str(error), err=True)
        return 1
    best = document["sustained"]
    if best is None:
        click.echo("no step held the SLO (no errors, p95 within 200 ms)")
        return 1
    click.echo(f"highest sustained: {best['responses_per_s']:.1f} responses/s "
               f"(p50 {best['p50_ms']} ms, p95 {best['p95_ms']} ms, p99 {best['p99_ms']} ms); "
               f"report in {config.var_dir / 'reports' / 'ops'}")
    verdict = document["plan"]
    if verdict is not None:
        click.echo(f"plan: {verdict['invitations']} invitations at "
                   f"{verdict['response_rate_percent']:g}% → peak "
                   f"{verdict['required_peak_per_s']:.2f}/s: "
                   + ("holds" if verdict["holds"] else "does NOT hold"))
        return 0 if verdict["holds"] else 1
    return 0
