"""The ``cxlab`` command: a thin layer over the library.

Every command reads the configuration once (CXLAB_* variables, see docs/configuration.md)
and reports a :class:`~cxlab.errors.CxlabError` as one line saying what to do next.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from tqdm import tqdm

from cxlab import accounts, tenancy
from cxlab.config import Config
from cxlab.db import Database, DatabaseError
from cxlab.errors import AlreadyExists, CxlabError
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import STATUSES, definition_of, get_survey, list_surveys, publish_survey

DEMO_TENANTS = (
    # slug, name, survey file, responses, user e-mail
    ("demo", "Sakura Dining", "restaurant_visit.yaml", 50_000, "demo@example.com"),
    ("demo-works", "Demo Works Inc.", "employee_engagement.yaml", 3_000, "hr@example.com"),
)
DEMO_PASSWORD = "demo-password"


class CxlabGroup(click.Group):
    """A click group that shows cxlab's own errors as messages, not tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CxlabError as error:
            raise click.ClickException(str(error)) from None


def _config() -> Config:
    return Config.from_environ()


def _database(config: Config, *, must_be_migrated: bool = True) -> Database:
    database = Database(config.database_url)
    if must_be_migrated:
        try:
            migrated = database.is_migrated()
        except OperationalError as error:
            raise DatabaseError(
                f"cannot reach the database: {error.orig}. Check CXLAB_DATABASE_URL."
            ) from None
        if not migrated:
            raise DatabaseError("the database is not initialised (or is behind): run cxlab init")
    return database


def _shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.group(cls=CxlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cxlab")
def main() -> None:
    """cxlab: customer- and employee-experience surveys, analysed in Jupyter.

    \b
    Start with:  cxlab demo          (everything, on a local SQLite database)
    Or step by step:
      cxlab init
      cxlab tenant create acme --name "Acme Foods"
      cxlab survey load --tenant acme my_survey.yaml
    """


@main.command()
def init() -> None:
    """Create or upgrade the database schema (safe to run again).

    Example: CXLAB_DATABASE_URL=postgresql://cxlab@db/cxlab cxlab init
    """
    config = _config()
    database = _database(config, must_be_migrated=False)
    database.migrate()
    click.echo(f"Database ready: {_shown_url(config.database_url)}")


# ---------------------------------------------------------------- tenants


@main.group()
def tenant() -> None:
    """Create and list tenants (client companies)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. 'Acme Foods'.")
@click.option("--plan", default="standard", show_default=True, help="Plan name.")
@click.option("--language", default="ja", show_default=True,
              help="Language of the tenant's reports and report e-mails: ja or en.")
def tenant_create(slug: str, name: str, plan: str, language: str) -> None:
    """Create tenant SLUG.  Example: cxlab tenant create acme --name "Acme Foods" """
    database = _database(_config())
    with database.session() as session:
        tenancy.create_tenant(session, slug, name, plan=plan, language=language)
    click.echo(f"Created tenant {slug} ({name}), reports in {language}.")


@tenant.command("set-language")
@click.argument("slug")
@click.argument("language")
def tenant_set_language(slug: str, language: str) -> None:
    """Set the language (ja or en) of tenant SLUG's reports.

    Example: cxlab tenant set-language acme en
    """
    database = _database(_config())
    with database.session() as session:
        tenancy.set_language(session, slug, language)
    click.echo(f"Tenant {slug}: reports in {language}.")


@tenant.command("list")
def tenant_list() -> None:
    """List tenants."""
    database = _database(_config())
    with database.session() as session:
        for row in tenancy.list_tenants(session):
            click.echo(f"{row.slug:<24} {row.plan:<10} {row.language:<3} {row.name}")


# ---------------------------------------------------------------- users and keys


@main.group()
def user() -> None:
    """Create, list, disable and enable client-portal users; reset passwords; unlock."""


@user.command("create")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant the user belongs to.")
@click.option("--role", type=click.Choice(tenancy.ROLES), default="viewer", show_default=True)
@click.argument("email")
def user_create(tenant_slug: str, role: str, email: str) -> None:
    """Create a user; the password is read from standard input or asked for.

    Example: echo 's3cret-passphrase' | cxlab user create --tenant acme ana@acme.example
    """
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    database = _database(_config())
    with database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug)
        tenancy.create_user(session, tenant_row, email, password, role=role)
    click.echo(f"Created {role} {email.strip().lower()} in tenant {tenant_slug}.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@user.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def user_list(tenant_slug: str) -> None:
    """The tenant's users: e-mail, role, created, and whether disabled."""
    with _database(_config()).session() as session:
        for row in accounts.list_users(session, tenant_slug):
            state = "disabled" if row.disabled else "active"
            click.echo(f"{row.email:<40} {row.role:<8} {row.created_at:%Y-%m-%d} {state}")


@user.command("disable")
@click.argument("email")
def user_disable(email: str) -> None:
    """Refuse the user's sign-ins and end every session they have now."""
    with _database(_config()).session() as session:
        accounts.disable_user(session, email)
    click.echo(f"Disabled {email}; their sessions have ended.")


@user.command("enable")
@click.argument("email")
def user_enable(email: str) -> None:
    """Let a disabled user sign in again."""
    with _database(_config()).session() as session:
        accounts.enable_user(session, email)
    click.echo(f"Enabled {email}.")


@user.command("reset-password")
@click.argument("email")
def user_reset_password(email: str) -> None:
    """Set a new password (from standard input or asked for); ends every session.

    Example: echo 'a new long passphrase' | cxlab user reset-password ana@acme.example
    """
    password = _read_password()
    with _database(_config()).session() as session:
        accounts.reset_password(session, email, password)
    click.echo(f"New password set for {email}; their sessions have ended.")


@user.command("unlock")
@click.argument("email")
def user_unlock(email: str) -> None:
    """Forget the e-mail's failed sign-ins, so no wait applies any more."""
    with _database(_config()).session() as session:
        forgotten = accounts.unlock_user(session, email)
    click.echo(f"Forgot {forgotten} failed sign-in(s) of {email}.")


@main.group()
def apikey() -> None:
    """Create, list and revoke API keys for the JSON ingestion API."""


@apikey.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--name", default="", help="What the key is for, e.g. 'kiosk shibuya'.")
def apikey_create(tenant_slug: str, name: str) -> None:
    """Create a key scoped to one tenant; it is printed once and stored only as a hash.

    Example: cxlab apikey create --tenant acme --name kiosk
    """
    database = _database(_config())
    with database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug)
        _, plaintext = tenancy.create_api_key(session, tenant_row, name)
    click.echo(plaintext)
    click.echo("Store it now: it cannot be shown again.", err=True)


@apikey.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def apikey_list(tenant_slug: str) -> None:
    """The tenant's keys: prefix (what to revoke by), created, revoked, name."""
    with _database(_config()).session() as session:
        for row in accounts.list_api_keys(session, tenant_slug):
            revoked = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            click.echo(f"{row.prefix:<16} {row.created_at:%Y-%m-%d} {revoked:<18} {row.name}")


@apikey.command("revoke")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("prefix")
def apikey_revoke(tenant_slug: str, prefix: str) -> None:
    """Revoke a key by its prefix (see cxlab apikey list); it stops working at once
    (within CXLAB_LOOKUP_TTL seconds on running servers)."""
    with _database(_config()).session() as session:
        tenancy.revoke_api_key(session, tenancy.get_tenant(session, tenant_slug), prefix)
    click.echo(f"Revoked API key {prefix} of tenant {tenant_slug}.")


# ---------------------------------------------------------------- surveys


@main.group()
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
    database = _database(_config())
    with database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug)
        row = publish_survey(session, tenant_row, definition, status=status)
    click.echo(f"Survey {tenant_slug}/{row.slug} is at version {row.version} ({row.status}).")


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
    database = _database(_config())
    with database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug) if tenant_slug else None
        rows = list_surveys(session, tenant_row)
    header = f"{'tenant':<16} {'survey':<20} {'id':>5} {'ver':>4} {'status':<7} {'responses':>10}"
    click.echo(header)
    for row, slug, count in rows:
        click.echo(
            f"{slug:<16} {row.slug:<20} {row.id:>5} {row.version:>4} {row.status:<7} {count:>10,}"
        )


# ---------------------------------------------------------------- distribution


@main.group()
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
    from cxlab.distribution import distribution_create_command

    sys.exit(distribution_create_command(_config(), tenant_slug, survey_slug, name, recipients,
                                         strict, reminder_after_days))


@distribution.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def distribution_list(tenant_slug: str) -> None:
    """Sent, answered and response rate per distribution, and by attribute."""
    from cxlab.distribution import distribution_list_command

    sys.exit(distribution_list_command(_config(), tenant_slug))


@main.command("send")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--rate", type=click.FloatRange(0.1, 1000), default=5.0, show_default=True,
              help="E-mails per second at most.")
@click.option("--lease", type=click.IntRange(10, 7 * 86400), default=900, show_default=True,
              help="Seconds after which a row a dead sender left in 'sending' is recovered.")
def send_cli(batch_size: int, rate: float, lease: int) -> None:
    """Send queued e-mails now (what the send-invitations job does every minute)."""
    from cxlab.outbox import send_command

    sys.exit(send_command(_config(), batch_size=batch_size, rate=rate,
                          lease=timedelta(seconds=lease)))


@main.group()
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
    from cxlab.outbox_review import list_command

    sys.exit(list_command(_config(), unknown_only=unknown_only, tenant=tenant_slug,
                          limit=limit))


@outbox.command("resolve")
@click.argument("message_id", type=int)
@click.option("--sent/--not-sent", "was_sent", required=True,
              help="What the SMTP server's log says about its Message-ID.")
def outbox_resolve(message_id: int, was_sent: bool) -> None:
    """Settle an 'unknown' e-mail: --sent marks it delivered, --not-sent queues it again.

    Example: cxlab outbox resolve 42 --not-sent
    """
    from cxlab.outbox_review import resolve_command

    sys.exit(resolve_command(_config(), message_id, was_sent=was_sent))


# ---------------------------------------------------------------- seed


def _parse_day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-09-01", param_hint=option
        ) from None


@main.command("seed")
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
    start_at, end_at = _parse_day(start, "--start"), _parse_day(end, "--end")
    database = _database(_config())
    with database.session() as session:
        survey_row = get_survey(session, tenancy.get_tenant(session, tenant_slug), survey_slug)
    result = _seed_with_progress(database, survey_row, count, random_seed, start_at, end_at)
    click.echo(
        f"Added {result.inserted:,} responses to {tenant_slug}/{survey_slug}. Planted drivers "
        f"of {result.plan.outcome}, strongest first: {', '.join(result.plan.strong)}."
    )


def _seed_with_progress(database, survey_row, count, random_seed, start=None, end=None):
    # Imported here: numpy and pandas would add half a second to every other command.
    from cxlab import seed as seeding

    with tqdm(total=count, unit="resp", unit_scale=True, desc="seeding", file=sys.stderr) as bar:
        return seeding.seed_survey(
            database, survey_row, definition_of(survey_row), count,
            seed=random_seed, start=start, end=end, on_progress=bar.update,
        )


# ---------------------------------------------------------------- sync


@main.command("sync")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant.")
@click.option("--survey", "survey_slug", default=None, help="Only this survey (with --tenant).")
@click.option("--verify", is_flag=True,
              help="Then compare counts and id checksums with the database; exit 1 on a gap.")
@click.option("--no-snapshots", is_flag=True,
              help="Skip precomputing the dashboards' opening views (they are then "
                   "analysed when first opened).")
def sync_cli(tenant_slug: str | None, survey_slug: str | None, verify: bool,
             no_snapshots: bool) -> None:
    """Copy new responses into the analytic store (Parquet under CXLAB_STORE_URL).

    Incremental and safe to rerun; deletions in the database reach the store too.
    Then each synced survey's dashboard opening view is precomputed, so clients open
    even a million-response dashboard without waiting for the analysis.
    Example: cxlab sync --verify
    """
    if survey_slug and not tenant_slug:
        raise click.UsageError("--survey needs --tenant")
    from cxlab.store import sync_command

    sys.exit(sync_command(_config(), tenant=tenant_slug, survey=survey_slug, verify=verify,
                          snapshots=not no_snapshots))


# ---------------------------------------------------------------- check


@main.command("check")
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

    config = _config()
    results = run_checks(deployment_checks(
        config, survey_url.rstrip("/"), (dashboard_url or config.dashboard_url).rstrip("/")
    ))
    click.echo(format_results(results))
    sys.exit(0 if all(result.ok for result in results) else 1)


# ---------------------------------------------------------------- load and capacity


@main.command("loadtest")
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
    from cxlab.loadtest import loadtest_command

    sys.exit(loadtest_command(_config(), target, users, spawn_rate, duration, allow_remote))


@main.command("capacity")
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
    from cxlab.loadtest import capacity_command

    parsed = None
    if steps:
        try:
            parsed = tuple(int(step) for step in steps.split(","))
        except ValueError:
            raise click.BadParameter("give whole numbers like 10,20,40",
                                     param_hint="--steps") from None
    sys.exit(capacity_command(_config(), responses, parsed, step_seconds, plan, rate))


@main.command("backup")
@click.argument("destination", required=False)
def backup_cli(destination: str | None) -> None:
    """Copy the SQLite database safely while it is in use, then verify the copy.

    Default destination: var/backups/cxlab-YYYYmmdd-HHMMSS.db. On PostgreSQL it prints
    the pg_dump command to use instead.  Example: cxlab backup /mnt/backups/cxlab.db
    """
    from cxlab.backup import backup_command

    sys.exit(backup_command(_config(), destination))


# ---------------------------------------------------------------- serve


@main.group()
def serve() -> None:
    """Run a long-running process (what the Procfile starts)."""


@serve.command("surveys")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; keep loopback behind a reverse proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Python threads per worker that run requests (and share group "
                   "commits; survey_server.serve.THREADS_PER_WORKER).")
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
def serve_surveys(host: str, port: int, workers: int, threads: int, reload: bool) -> None:
    """Serve survey pages, the JSON API, /healthz and /metrics under granian (WSGI).

    Example: cxlab serve surveys --port 8080 --workers 2 --threads 8
    """
    from survey_server.serve import run  # the server stack is only needed here

    run(_config(), host=host, port=port, workers=workers, threads=threads, reload=reload)


@serve.command("dashboards")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8866, show_default=True)
def serve_dashboards_command(host: str, port: int) -> None:
    """Serve notebooks/dashboards/ with Voila; each page needs a token from the portal.

    Example: cxlab serve dashboards --port 8866
    """
    from cxlab.dashboards.hook import serve_dashboards

    serve_dashboards(_config(), port=port, host=host)


@serve.command("scheduler")
@click.option("--workers", type=click.IntRange(1, 32), default=2, show_default=True,
              help="Tenants of one notebook job run in parallel.")
def serve_scheduler_command(workers: int) -> None:
    """Fire the jobs of scheduled/schedule.yaml when due, until stopped.

    Example: cxlab serve scheduler --workers 4
    """
    from cxlab.jobs import serve_scheduler

    serve_scheduler(_config(), workers=workers)


# ---------------------------------------------------------------- jobs


@main.command("run-job")
@click.argument("name")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant.")
@click.option("--date", default=None,
              help="Run for the latest due time at or before this (YYYY-MM-DD[THH:MM]).")
def run_job_cli(name: str, tenant_slug: str | None, date: str | None) -> None:
    """Run one scheduled job now; the exit code is the outcome (0 ok, 1 failed, 3 busy).

    What cron, a Kubernetes CronJob or Airflow calls.
    Example: cxlab run-job weekly-report --tenant demo --date 2026-11-23
    """
    from cxlab.jobs import run_job_command

    sys.exit(run_job_command(_config(), name, tenant_slug, date))


@main.command("jobs")
@click.option("--failed", is_flag=True, help="Only failed runs.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
def jobs_cli(failed: bool, limit: int) -> None:
    """List recent job runs.  Example: cxlab jobs --failed"""
    from cxlab.jobs import jobs_command

    jobs_command(_config(), failed_only=failed, limit=limit)


# ---------------------------------------------------------------- demo


@main.command()
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Run the Procfile processes after setting up.")
@click.option("--procfile", type=click.Path(dir_okay=False), default="Procfile",
              show_default=True)
def demo(serve: bool, procfile: str) -> None:
    """Set up demo tenants, users, surveys and data, then run the product.

    Safe to run again: what exists is kept. Ctrl-C stops every process.
    """
    config = _config()
    database = _database(config, must_be_migrated=False)
    database.migrate()
    click.echo(f"Database: {_shown_url(config.database_url)}")
    for slug, name, survey_file, responses, email in DEMO_TENANTS:
        with database.session() as session:
            try:
                tenant_row = tenancy.create_tenant(session, slug, name)
            except AlreadyExists:
                tenant_row = tenancy.get_tenant(session, slug)
            survey_row = publish_survey(session, tenant_row, load_definition(
                EXAMPLES_DIR / survey_file))
            with contextlib.suppress(AlreadyExists):
                tenancy.create_user(session, tenant_row, email, DEMO_PASSWORD, role="admin")
            already = dict(((s.id, n) for s, _, n in list_surveys(session, tenant_row)))
        if already.get(survey_row.id, 0) == 0:
            _seed_with_progress(database, survey_row, responses, random_seed=0)
        click.echo(f"Tenant {slug} ({name}): survey {survey_row.slug}, login {email} / "
                   f"{DEMO_PASSWORD}")
    # Dashboards read the Parquet store: fill it now rather than at the scheduler's
    # first minute.
    from cxlab.store import sync_command

    sync_command(config, verify=True)
    _print_demo_urls(config)
    if serve:
        _run_procfile(Path(procfile))


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


if __name__ == "__main__":
    main()
