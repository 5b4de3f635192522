"""``cxlab demo``: demo tenants, users, surveys and data, then the Procfile's processes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import click

from cxlab import org, tenancy
from cxlab.cli.base import load_config, shown_url
from cxlab.cli.store import sync_command
from cxlab.cli.surveys import seed_with_progress
from cxlab.config import Config
from cxlab.db import Database
from cxlab.errors import AlreadyExists, CxlabError
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import list_surveys, publish_survey

DEMO_TENANTS = (
    # slug, name, survey file, responses, user e-mail
    ("demo", "Sakura Dining", "restaurant_visit.yaml", 50_000, "demo@example.com"),
    ("demo-works", "Demo Works Inc.", "employee_engagement.yaml", 3_000, "hr@example.com"),
)
DEMO_PASSWORD = "demo-password"
# The restaurant chain's organisation and two scoped logins: an area and a store manager.
DEMO_TREE = ("demo", "sakura_dining.csv")
DEMO_SCOPED_USERS = (("kanto@example.com", "kanto"), ("shibuya@example.com", "shibuya-01"))


@click.command()
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Run the Procfile processes after setting up.")
@click.option("--procfile", type=click.Path(dir_okay=False), default="Procfile",
              show_default=True)
def demo(serve: bool, procfile: str) -> None:
    """Set up demo tenants, users, surveys and data, then run the product.

    Safe to run again: what exists is kept. Ctrl-C stops every process.
    """
    config = load_config()
    with Database.open(config, must_be_migrated=False) as database:
        database.migrate()
        click.echo(f"Database: {shown_url(config.database_url)}")
        for slug, name, survey_file, responses, email in DEMO_TENANTS:
            survey_row, already = _demo_tenant(database, slug, name, survey_file, email)
            if already == 0:
                seed_with_progress(database, survey_row, responses, random_seed=0)
            click.echo(f"Tenant {slug} ({name}): survey {survey_row.slug}, login {email} / "
                       f"{DEMO_PASSWORD}")
        for email, unit in _demo_organisation(database):
            click.echo(f"  scoped to {unit}: login {email} / {DEMO_PASSWORD}")
    # Dashboards read the Parquet store: fill it now rather than at the scheduler's
    # first minute.
    sync_command(config, verify=True)
    _print_demo_urls(config)
    if serve:
        _run_procfile(Path(procfile))


def _demo_tenant(database: Database, slug: str, name: str, survey_file: str, email: str):
    """The demo tenant ``slug`` with its survey and admin user (kept if they exist);
    the survey and how many complete responses it has already."""
    with database.session() as session:
        try:
            tenant_row = tenancy.create_tenant(session, slug, name)
        except AlreadyExists:
            tenant_row = tenancy.get_tenant(session, slug)
        survey_row = publish_survey(session, tenant_row, load_definition(
            EXAMPLES_DIR / survey_file))
        with contextlib.suppress(AlreadyExists):
            tenancy.create_user(session, tenant_row, email, DEMO_PASSWORD, role="admin")
        counts = {survey.id: count for survey, _, count in list_surveys(session, tenant_row)}
    return survey_row, counts.get(survey_row.id, 0)


def _demo_organisation(database: Database) -> list[tuple[str, str]]:
    """The demo chain's tree (``cxlab org load``) and its scoped viewers (kept if they
    exist): their e-mails and units."""
    slug, file_name = DEMO_TREE
    with database.session() as session:
        tenant_row = tenancy.get_tenant(session, slug)
        org.load_tree(session, tenant_row, org.read_units(org.EXAMPLES_DIR / file_name))
        for email, unit in DEMO_SCOPED_USERS:
            with contextlib.suppress(AlreadyExists):
                tenancy.create_user(session, tenant_row, email, DEMO_PASSWORD)
            org.set_scope(session, tenant_row, email, [unit])
    return list(DEMO_SCOPED_USERS)


def _print_demo_urls(config: Config) -> None:
    click.echo(
        "\nThe demo:\n"
        "  client portal     http://127.0.0.1:8080/portal/  (logins above)\n"
        "  dashboards        http://127.0.0.1:8866  (opened from the portal)\n"
        "  survey page       http://127.0.0.1:8080/s/demo/store-visit?store=shibuya-01\n"
        "  employee survey   http://127.0.0.1:8080/s/demo-works/engagement\n"
        "  JSON API          http://127.0.0.1:8080/api/v1/openapi.json\n"
        "  health            http://127.0.0.1:8080/healthz\n"
        "  notebooks         make lab  (JupyterLab on notebooks/)\n"
        f"  data              {config.var_dir}\n"
    )


def _run_procfile(procfile: Path) -> None:
    if not procfile.exists():
        raise CxlabError(f"no {procfile} here: run cxlab demo from the project folder")
    # The Procfile says `cxlab ...`: make sure that is this environment's cxlab even
    # when the virtualenv is not activated (make demo calls .venv/bin/cxlab directly).
    bin_dir = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    honcho = str(Path(bin_dir) / "honcho")
    click.echo(f"Starting the processes of {procfile} (Ctrl-C stops them all)...")
    process = subprocess.Popen([honcho, "start", "-f", str(procfile)], env=environment)
    try:
        process.wait()
    except KeyboardInterrupt:
        # honcho got the same SIGINT from the terminal and is stopping its children.
        process.wait()
    sys.exit(process.returncode or 0)
