"""``cxlab send`` and ``cxlab outbox …``: send the e-mail queue now, look at it, and
settle rows a dead sender left 'unknown'."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from cxlab.cli.base import load_config
from cxlab.config import Config
from cxlab.db import Database


@click.command("send")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--rate", type=click.FloatRange(0.1, 1000), default=5.0, show_default=True,
              help="E-mails per second at most.")
@click.option("--lease", type=click.IntRange(10, 7 * 86400), default=900, show_default=True,
              help="Seconds after which a row a dead sender left in 'sending' is recovered.")
def send_cli(batch_size: int, rate: float, lease: int) -> None:
    """Send queued e-mails now (what the send-invitations job does every minute)."""
    sys.exit(send_command(load_config(), batch_size=batch_size, rate=rate,
                          lease=timedelta(seconds=lease)))


def send_command(config: Config, batch_size: int | None = None, rate: float | None = None,
                 lease: timedelta | None = None) -> int:
    """Send every due queued e-mail now and print the :class:`~cxlab.outbox.SendReport`;
    the exit code: 0 when none failed in this run, 1 otherwise (the failed rows keep the
    SMTP reply). An option left None takes :func:`~cxlab.outbox.send_queued`'s default.

    Example::

        send_command(config, batch_size=100, rate=5)
        # sent 1203, retry later 2, failed 1, skipped 0; recovered 0, unknown 0
        # 1
    """
    from cxlab.outbox import send_queued

    with Database.open(config, must_be_migrated=False) as database:
        given = {"batch_size": batch_size, "rate": rate, "lease": lease}
        report = send_queued(database, config, progress=None,
                             **{name: value for name, value in given.items() if value is not None})
    click.echo(report.summary())
    if report.failed or report.unknown:
        click.echo("some e-mails failed or need review: see the outbox rows' smtp_reply "
                   "(status 'failed'), `cxlab outbox list --unknown` and "
                   "docs/distribution.md", err=True)
        return 1
    return 0


@click.group()
def outbox() -> None:
    """Look at the e-mail queue and settle rows a dead sender left 'unknown'."""


@outbox.command("list")
@click.option("--unknown", "unknown_only", is_flag=True,
              help="Only rows that may or may not have been delivered.")
@click.option("--tenant", "tenant_slug", default=None)
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
def outbox_list(unknown_only: bool, tenant_slug: str | None, limit: int) -> None:
    """The newest e-mails: id, tenant, status, address, Message-ID, claimed at.

    Example: cxlab outbox list --unknown
    """
    from cxlab.outbox_review import outbox_rows

    with Database.open(load_config(), must_be_migrated=False) as database:
        rows = outbox_rows(database, unknown_only=unknown_only, tenant=tenant_slug, limit=limit)
    if not rows:
        click.echo("no 'unknown' e-mails: nothing to settle" if unknown_only else "no e-mails")
        return
    for row in rows:
        claimed = row.claimed_at.isoformat(timespec="seconds") if row.claimed_at else "-"
        click.echo(f"{row.id}\t{row.tenant}\t{row.status}\t{row.to_address}\t"
                   f"{row.message_id or '-'}\t{claimed}")
    if unknown_only:
        click.echo("search the SMTP server's log for each Message-ID, then: "
                   "cxlab outbox resolve ID --sent (it was delivered) or --not-sent "
                   "(it is queued again)", err=True)


@outbox.command("resolve")
@click.argument("message_id", type=int)
@click.option("--sent/--not-sent", "was_sent", required=True,
              help="What the SMTP server's log says about its Message-ID.")
def outbox_resolve(message_id: int, was_sent: bool) -> None:
    """Settle an 'unknown' e-mail: --sent marks it delivered, --not-sent queues it again.

    Example: cxlab outbox resolve 42 --not-sent
    """
    from cxlab.outbox_review import resolve_message

    with Database.open(load_config(), must_be_migrated=False) as database:
        resolve_message(database, message_id, was_sent=was_sent)
    click.echo(f"outbox message {message_id}: "
               + ("marked sent" if was_sent else "queued again; the next send run sends it"))
