"""``cxlab export``: a survey's answers as a file (CSV, Excel, SPSS, Stata, long CSV)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cxlab import exports, tenancy
from cxlab.cli.base import load_config
from cxlab.db import Database
from cxlab.stored_responses import iter_responses
from cxlab.surveys.catalog import definition_of, get_survey


@click.command("export")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--survey", "survey_slug", required=True)
@click.option("--format", "kind", type=click.Choice(list(exports.FORMATS)), default="csv",
              show_default=True, help="sav and dta carry variable and value labels; long "
                                      "is one line per answer.")
@click.option("--out", "out", type=click.Path(dir_okay=False, allow_dash=True),
              help="The file to write ('-': standard output); default "
                   "<survey>-responses.<format> here.")
@click.option("--include-partial", is_flag=True, help="Also unfinished answers.")
def export_cli(tenant_slug: str, survey_slug: str, kind: str, out: str | None,
               include_partial: bool) -> None:
    """Export a survey's answers, labelled in the tenant's language; an anonymous
    survey's small segments are hidden as in every export.

    Example: cxlab export --tenant acme --survey store-visit --format sav
    """
    with Database.open(load_config()) as database:
        with database.session() as session:
            survey = get_survey(session, tenancy.get_tenant(session, tenant_slug), survey_slug)
            language = exports.tenant_language(session, survey)
        blocks = exports.export_stream(
            definition_of(survey),
            lambda: iter_responses(database, survey, include_partial=include_partial),
            kind, language)
        if out == "-":
            for block in blocks:
                sys.stdout.buffer.write(block)
            return
        path = Path(out or exports.file_name(survey.slug, kind))
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("wb") as handle:
                for block in blocks:
                    handle.write(block)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
        partial.replace(path)
    click.echo(f"Wrote {tenant_slug}/{survey_slug} as {kind} to {path} "
               f"({path.stat().st_size:,} bytes).")
