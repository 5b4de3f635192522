"""``cxlab distribution …``: send a survey to a recipient list, and see its rates."""

from __future__ import annotations

import sys

import click

from cxlab.cli.base import load_config
from cxlab.config import Config


@click.group()
def distribution() -> None:
    """Send a survey to a recipient list: personal links, e-mails, reminders."""


@distribution.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--survey", "survey_slug", required=True)
@click.option("--name", required=True, help="e.g. 'November visitors'.")
@click.option("--recipients", type=click.Path(dir_okay=False), required=True,
              help="CSV (UTF-8 or Shift_JIS): email plus the survey's attribute columns.")
@click.option("--strict", is_flag=True, help="Refuse the whole file if any line is bad.")
@click.option("--reminder-after-days", type=click.IntRange(1, 365), default=None,
              help="Send one reminder this many days later to those who have not answered.")
def distribution_create(tenant_slug, survey_slug, name, recipients, strict,
                        reminder_after_days) -> None:
    """Create invitations from a CSV and queue their e-mails (sent by the scheduler or
    cxlab send). Bad lines are reported by number and skipped (or, with --strict, refused).

    Example: cxlab distribution create --tenant acme --survey engagement --name "2026 Q4"
    --recipients staff.csv --reminder-after-days 5
    """
    sys.exit(distribution_create_command(load_config(), tenant_slug, survey_slug, name,
                                         recipients, strict, reminder_after_days))


def distribution_create_command(
    config: Config, tenant: str, survey: str, name: str, recipients_path: str,
    strict: bool, reminder_after_days: int | None,
) -> int:
    """Import the CSV, queue the invitations, print the skipped lines; the exit code:
    0 when every line was imported, 1 when lines were skipped.

    Example::

        distribution_create_command(config, "acme", "store-visit", "May",
                                    "customers.csv", strict=False, reminder_after_days=7)
        # line 4: 'ana@' is not an e-mail address
        # distribution 3 'May': 1,203 invitations queued; 1 line(s) skipped
    """
    from cxlab.distribution import import_distribution  # pandas: only for this command

    report = import_distribution(config, tenant, survey, name, recipients_path, strict=strict,
                                 reminder_after_days=reminder_after_days, progress=None)
    for problem in report.problems + report.opted_out:
        click.echo(str(problem), err=True)
    click.echo(f"distribution {report.distribution.id} {report.distribution.name!r}: "
               f"{report.queued:,} invitations queued; {report.skipped} line(s) skipped"
               + ("" if not report.skipped else " (listed above)")
               + "; `cxlab send` or the send-invitations job sends them")
    return 1 if report.skipped else 0


@distribution.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def distribution_list(tenant_slug: str) -> None:
    """Sent, answered and rate per distribution, and by attribute."""
    sys.exit(distribution_list_command(load_config(), tenant_slug))


def distribution_list_command(config: Config, tenant: str) -> int:
    """Print each distribution of ``tenant`` with its invitations, sent, answered and
    rate, then the rate by each survey attribute; the exit code (0).

    Example::

        distribution_list_command(config, "acme")
        # 3  May  survey=store-visit  invited=1203  sent=1203  answered=412  rate=34.2%
    """

    from cxlab.analysis.response_rate import format_rate
    from cxlab.distribution.rates import distribution_rates

    rates = distribution_rates(config, tenant)
    if not rates:
        click.echo(f"tenant {tenant!r} has no distributions yet; create one with "
                   "cxlab distribution create")
        return 0
    for entry in rates:
        summary, row = entry.summary, entry.summary.distribution
        click.echo(f"{row.id}  {row.name}  survey={entry.survey}  "
                   f"invited={summary.invited}  sent={summary.sent}  "
                   f"answered={summary.answered}  rate={format_rate(summary.rate)}")
        for table in entry.by_attribute:
            table = table.drop(columns=["distribution", "ci_low", "ci_high"])
            table["rate"] = table["rate"].map(format_rate)
            click.echo("    " + table.to_string(index=False).replace("\n", "\n    "))
    return 0
