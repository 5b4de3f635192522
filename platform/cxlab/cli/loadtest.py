"""``cxlab loadtest`` and ``cxlab capacity``: load on a survey server, and the capacity
report. Each exits 0 when the run held (no failed request; for capacity, a step held
and any send plan holds).

>>> from cxlab.config import Config
>>> config = Config.from_environ({"CXLAB_VAR_DIR": "/tmp/cxlab-doc-loadtest"})
>>> loadtest_command(config, "https://surveys.example.com", 10, 2, 5, False)  # doctest: +ELLIPSIS
refusing to load https://surveys.example.com: not a loopback address; ...
2
"""

from __future__ import annotations

import sys

import click

from cxlab.cli.base import load_config
from cxlab.config import Config
from cxlab.db import Database
from cxlab.errors import CxlabError


@click.command("loadtest")
@click.option("--target", default="http://127.0.0.1:8080", show_default=True,
              help="Base URL of a survey server that serves this configuration's database.")
@click.option("--users", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--spawn-rate", type=click.FloatRange(0.1, 1000), default=5, show_default=True)
@click.option("--duration", type=click.FloatRange(1, 86_400), default=30, show_default=True,
              help="Seconds.")
@click.option("--allow-remote", is_flag=True, help="Allow a target that is not loopback.")
def loadtest_cli(target, users, spawn_rate, duration, allow_remote) -> None:
    """Run Locust headless: respondents, kiosks and portal users against TARGET.

    Example: cxlab loadtest --users 50 --duration 60
    """
    sys.exit(loadtest_command(load_config(), target, users, spawn_rate, duration, allow_remote))


def loadtest_command(
    config: Config, target: str, users: int, spawn_rate: float, duration: float,
    allow_remote: bool,
) -> int:
    """Run the mixed load (respondents, invitees, kiosks, portal clients) against
    ``target`` and print the :class:`~cxlab.loadtest.LoadReport`; the exit code.

    The load-test tenant, survey, API key, portal user and invitations are created in
    ``config``'s database, so ``target`` must be a server of that database.
    """
    from cxlab.loadtest import is_loopback, prepare_workload, run_loadtest

    if not allow_remote and not is_loopback(target):
        click.echo(f"refusing to load {target}: not a loopback address; "
                   "pass --allow-remote if you mean it")
        return 2
    try:
        with Database.open(config, must_be_migrated=False) as database:
            workload = prepare_workload(database)
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


@click.command("capacity")
@click.option("--responses", type=click.IntRange(0, 20_000_000), default=100_000,
              show_default=True, help="Seed the fresh local stack to this volume first.")
@click.option("--steps", default=None, help="Users per step, e.g. 10,20,40,80.")
@click.option("--step-seconds", type=click.FloatRange(1, 3600), default=20, show_default=True)
@click.option("--plan", type=click.IntRange(1, 100_000_000), default=None,
              help="Invitations you will send...")
@click.option("--rate", type=click.FloatRange(0.1, 100), default=None,
              help="...and the % you expect to answer in the first hour.")
def capacity_cli(responses, steps, step_seconds, plan, rate) -> None:
    """Stepped load on a fresh local stack until the SLO breaks; writes a capacity report
    under var/reports/ops/ and says whether a send plan will hold.

    Example: cxlab capacity --responses 1000000 --plan 50000 --rate 20
    """
    parsed = None
    if steps:
        try:
            parsed = tuple(int(step) for step in steps.split(","))
        except ValueError:
            raise click.BadParameter("give whole numbers like 10,20,40",
                                     param_hint="--steps") from None
    sys.exit(capacity_command(load_config(), responses, parsed, step_seconds, plan, rate))


def capacity_command(
    config: Config, responses: int, steps: tuple[int, ...] | None, step_seconds: float,
    plan: int | None, rate: float | None,
) -> int:
    """Stepped load against a fresh local stack seeded with ``responses`` responses;
    writes var/reports/ops/capacity.{json,md,html}, prints the verdict; the exit code."""
    from cxlab.loadtest.capacity import DEFAULT_STEPS, capacity

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
