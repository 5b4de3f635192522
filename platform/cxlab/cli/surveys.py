"""``cxlab survey …`` and ``cxlab seed``: survey definitions, and synthetic answers."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from tqdm import tqdm

from cxlab import tenancy
from cxlab.cli.base import load_config, parse_day
from cxlab.db import Database
from cxlab.db.models import Survey
from cxlab.responses import survey_availability
from cxlab.surveys import load_definition
from cxlab.surveys.catalog import (
    STATUSES,
    definition_of,
    get_survey,
    list_surveys,
    open_link,
    publish_survey,
    set_status,
)


@click.group()
def survey() -> None:
    """Load, check and list survey definitions (YAML, see docs/surveys.md)."""


@survey.command("load")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--status", type=click.Choice(STATUSES), default="open", show_default=True)
@click.argument("path", type=click.Path(dir_okay=False))
def survey_load(tenant_slug: str, status: str, path: str) -> None:
    """Load a definition; loading a changed file makes a new version.

    Example: cxlab survey load --tenant acme surveys/store_visit.yaml
    """
    definition = load_definition(path)
    config = load_config()
    with Database.open(config) as database, database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug)
        row = publish_survey(session, tenant_row, definition, status=status)
        link = open_link(config.public_url, tenant_slug, row)
        shown = _availability(row)
    click.echo(f"Survey {tenant_slug}/{row.slug} is at version {row.version} ({shown}).")
    queried = [attribute.name for attribute in definition.attributes if attribute.from_query]
    extra = f" (add {', '.join(f'?{name}=…' for name in queried)})" if queried else ""
    click.echo(f"Open link: {link}{extra}")


def _status_command(name: str, status: str, summary: str) -> None:
    """``cxlab survey close`` and ``cxlab survey open``: one command each, alike."""

    @survey.command(name, help=f"{summary}\n\nExample: cxlab survey {name} --tenant acme "
                               "store-visit")
    @click.option("--tenant", "tenant_slug", required=True)
    @click.argument("slug")
    def command(tenant_slug: str, slug: str) -> None:
        _set_status(tenant_slug, slug, status)


_status_command("close", "closed",
                "Close a survey: its pages say so politely, its API answers 409.")
_status_command("open", "open",
                "Open a survey again (within its definition's opens_at/closes_at, if any).")


def _set_status(tenant_slug: str, slug: str, status: str) -> None:
    with Database.open(load_config()) as database, database.session() as session:
        row = set_status(session, tenancy.get_tenant(session, tenant_slug), slug, status)
        shown = _availability(row)
    click.echo(f"Survey {tenant_slug}/{slug} is now {shown}.")


def _availability(row: Survey) -> str:
    """The survey's status, and why an open survey takes no answers yet or any more."""
    availability = survey_availability(row)
    if row.status == "open" and availability == "closed":
        return f"open, but its closes_at {row.closes_at.isoformat()} has passed: closed"
    if availability == "not_yet_open":
        return f"open from {row.opens_at.isoformat()}"
    return row.status


@survey.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the definition here (default: standard output).")
def survey_import(path: str, out: str | None) -> None:
    """Convert a Qualtrics .qsf or LimeSurvey .lss file into a definition, listing
    what could not be carried over as it was.

    Example: cxlab survey import visit.qsf --out visit.yaml
    """
    from pathlib import Path

    from cxlab.surveys.importers import definition_yaml, import_survey

    report = import_survey(Path(path))
    text = definition_yaml(report)
    questions = [q for q in report.definition["questions"] if q.get("type") != "page_break"]
    summary = (f"Imported {len(questions)} questions from {report.source} "
               f"({path}) as survey {report.definition['slug']!r}.")
    notes = [f"  {note}" for note in report.notes]
    if notes:
        notes.insert(0, f"Not carried over as it was ({len(report.notes)}):")
    if out is None:
        click.echo(text, nl=False)
        for line in [summary, *notes]:
            click.echo(line, err=True)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    for line in [summary, *notes, f"Wrote {out}; load it with: cxlab survey load --tenant "
                                  f"TENANT {out}"]:
        click.echo(line)


@survey.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def survey_check(path: str) -> None:
    """Validate a definition file without loading it.  Example: cxlab survey check s.yaml"""
    definition = load_definition(path)
    click.echo(
        f"{path}: survey {definition.slug!r} is valid: {len(definition.questions)} "
        f"questions on {definition.page_count} page(s)."
    )


@survey.command("list")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant's surveys.")
def survey_list(tenant_slug: str | None) -> None:
    """List surveys with their version, status and number of complete responses."""
    with Database.open(load_config()) as database, database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug) if tenant_slug else None
        rows = list_surveys(session, tenant_row)
    header = f"{'tenant':<16} {'survey':<20} {'id':>5} {'ver':>4} {'status':<7} {'responses':>10}"
    click.echo(header)
    for row, slug, count in rows:
        click.echo(
            f"{slug:<16} {row.slug:<20} {row.id:>5} {row.version:>4} {row.status:<7} {count:>10,}"
        )


@click.command("seed")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--survey", "survey_slug", required=True)
@click.option("--responses", "count", type=click.IntRange(1, 20_000_000), required=True)
@click.option("--seed", "random_seed", type=int, default=0, show_default=True,
              help="Same seed and --end, same data.")
@click.option("--start", help="First day (YYYY-MM-DD); default 90 days before --end.")
@click.option("--end", help="Last day (YYYY-MM-DD); default now, so the newest answers "
                            "are today's.")
def seed_command(
    tenant_slug: str, survey_slug: str, count: int, random_seed: int,
    start: str | None, end: str | None,
) -> None:
    """Add synthetic responses with a known driver structure.

    Example: cxlab seed --tenant demo --survey store-visit --responses 1000000
    """
    start_at, end_at = parse_day(start, "--start"), parse_day(end, "--end")
    with Database.open(load_config()) as database:
        with database.session() as session:
            survey_row = get_survey(session, tenancy.get_tenant(session, tenant_slug),
                                    survey_slug)
        result = seed_with_progress(database, survey_row, count, random_seed, start_at, end_at)
    click.echo(
        f"Added {result.inserted:,} responses to {tenant_slug}/{survey_slug}. Planted drivers "
        f"of {result.plan.outcome}, strongest first: {', '.join(result.plan.strong)}."
    )


def seed_with_progress(database: Database, survey_row: Survey, count: int, random_seed: int,
                       start: datetime | None = None, end: datetime | None = None):
    """Seed ``count`` synthetic responses with a progress bar on stderr."""
    # Imported here: numpy and pandas would add half a second to every other command.
    from cxlab import seed as seeding

    with tqdm(total=count, unit="resp", unit_scale=True, desc="seeding", file=sys.stderr) as bar:
        return seeding.seed_responses(
            database, survey_row, definition_of(survey_row), count,
            seed=random_seed, start=start, end=end, on_progress=bar.update,
        )
