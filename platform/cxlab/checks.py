"""`cxlab check`: verify a deployment in seconds, one check per part.

Each check is a small function that returns a detail string when the part is healthy
and raises :class:`CheckFailed` (saying what to do) when it is not, like a pytest test;
:func:`run_checks` runs them all, times them and never stops at the first failure.

>>> results = run_checks([("always fine", lambda: "ok"),
...                       ("always broken", _fail_for_the_example)])
>>> [(r.name, r.status) for r in results]
[('always fine', 'ok'), ('always broken', 'FAIL')]
>>> results[1].detail
'broken on purpose: nothing to do'
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import requests
from sqlalchemy import func, select

from cxlab.config import Config
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.db import Database
from cxlab.db.models import JobRun, Survey, Tenant
from cxlab.errors import CxlabError

HTTP_TIMEOUT_SECONDS = 10
SCHEDULER_MAX_SILENCE = timedelta(minutes=10)
DASHBOARD = "overview.ipynb"


class CheckFailed(CxlabError):
    """A part of the deployment is not healthy; the message says what to do."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "ok" or "FAIL"
    detail: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"


Check = tuple[str, Callable[[], str]]


def run_checks(checks: Iterable[Check]) -> list[CheckResult]:
    """Run every check; an unexpected error counts as a failure of that check only."""
    results = []
    for name, check in checks:
        started = time.perf_counter()
        try:
            status, detail = "ok", check()
        except CheckFailed as failure:
            status, detail = "FAIL", str(failure)
        except Exception as error:  # a check must never hide the others
            status, detail = "FAIL", f"{type(error).__name__}: {error}"
        results.append(CheckResult(name, status, detail, time.perf_counter() - started))
    return results


def _fail_for_the_example() -> str:
    raise CheckFailed("broken on purpose: nothing to do")


# ---------------------------------------------------------------- the checks


def deployment_checks(config: Config, survey_url: str, dashboard_url: str) -> list[Check]:
    """The checks of one deployment, in the order an operator would look."""
    # Read-only: checking must never change what it checks (nor create a missing file).
    database = Database(config.database_url, read_only=True)
    return [
        ("database", lambda: check_database(database)),
        ("analytic store", lambda: check_store(database, config)),
        ("survey server", lambda: check_survey_server(survey_url)),
        ("dashboards (Voila)", lambda: check_dashboards(database, config, dashboard_url)),
        ("e-mail", lambda: check_mail(config)),
        ("scheduler", lambda: check_scheduler(database)),
    ]


def check_database(database: Database) -> str:
    path = database.sqlite_path
    if path is not None and not path.exists():
        raise CheckFailed(
            f"no database at {path}: restore it (cxlab backup keeps copies) or point "
            "CXLAB_DATABASE_URL at it; run cxlab init only for a new installation"
        )
    try:
        migrated = database.is_migrated()
    except Exception as error:
        raise CheckFailed(
            f"cannot reach the database ({type(error).__name__}); check CXLAB_DATABASE_URL "
            "and that the server runs"
        ) from None
    if not migrated:
        raise CheckFailed("the schema is behind: run cxlab init")
    with database.session() as session:
        tenants = session.scalar(select(func.count()).select_from(Tenant))
    return f"migrated; {tenants} tenant(s)"


def check_store(database: Database, config: Config) -> str:
    from cxlab.store import verify  # pyarrow is only needed for this check

    report = verify(database, config)
    if not report.ok:
        gaps = "; ".join(str(gap) for gap in report.gaps[:3])
        raise CheckFailed(f"store and database differ ({gaps}); run cxlab sync --verify")
    return "readable and in sync with the database"


def check_survey_server(base_url: str) -> str:
    try:
        answer = requests.get(f"{base_url}/healthz", timeout=HTTP_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise CheckFailed(
            f"no answer from {base_url} ({type(error).__name__}); start it with "
            "cxlab serve surveys"
        ) from None
    if answer.status_code != 200:
        raise CheckFailed(f"{base_url}/healthz answered {answer.status_code}: {answer.text[:200]}")
    return f"{base_url}/healthz ok"


def check_dashboards(database: Database, config: Config, base_url: str) -> str:
    """Voila answers, refuses a forged token and honours a genuine one."""
    page = f"{base_url}/voila/render/{DASHBOARD}"
    forged = DashboardTokens("not the server's secret key").issue("x", "check", DASHBOARD)
    try:
        refused = requests.get(page, params={"token": forged}, timeout=HTTP_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise CheckFailed(
            f"no answer from {base_url} ({type(error).__name__}); start it with "
            "cxlab serve dashboards"
        ) from None
    if refused.status_code != 403:
        raise CheckFailed(f"a forged dashboard token got {refused.status_code}, not 403")
    with database.session() as session:
        row = session.execute(
            select(Tenant.slug, Survey.slug).join(Survey, Survey.tenant_id == Tenant.id).limit(1)
        ).first()
    if row is None:
        return "forged token refused (no tenant yet to open a dashboard with)"
    token = DashboardTokens(config.secret_key).issue(row[0], "cxlab check", DASHBOARD,
                                                     survey=row[1])
    # Voila streams the page while the notebook runs: the status line is enough.
    with requests.get(page, params={"token": token}, timeout=HTTP_TIMEOUT_SECONDS * 3,
                      stream=True) as honoured:
        if honoured.status_code != 200:
            raise CheckFailed(
                f"a genuine token for tenant {row[0]} got {honoured.status_code}: does Voila "
                "run with the same CXLAB_SECRET_KEY as the portal?"
            )
    return f"forged token refused, genuine token for {row[0]} honoured"


def check_mail(config: Config) -> str:
    if config.smtp_url is None:
        config.outbox_dir.mkdir(parents=True, exist_ok=True)
        probe = config.outbox_dir / ".cxlab-check"
        probe.write_text("ok")
        probe.unlink()
        return f"no CXLAB_SMTP_URL: e-mails go to {config.outbox_dir} (writable)"
    parts = urlsplit(config.smtp_url)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    try:
        with smtp_class(parts.hostname, port, timeout=HTTP_TIMEOUT_SECONDS) as smtp:
            code, _ = smtp.noop()
            if parts.username:
                if parts.scheme == "smtp" and smtp.has_extn("starttls"):
                    smtp.starttls()
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
    except (OSError, smtplib.SMTPException) as error:
        raise CheckFailed(
            f"SMTP {parts.hostname}:{port} refused: {error}; check CXLAB_SMTP_URL"
        ) from None
    return f"SMTP {parts.hostname}:{port} accepts connections (NOOP {code})"


def check_scheduler(database: Database, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    with database.session() as session:
        latest = session.scalar(select(func.max(JobRun.started_at)))
    if latest is None:
        raise CheckFailed("no job has ever run: start cxlab serve scheduler (or cron)")
    if now - latest > SCHEDULER_MAX_SILENCE:
        minutes = int((now - latest).total_seconds() // 60)
        raise CheckFailed(
            f"the last job started {minutes} min ago (sync runs every minute): is "
            "cxlab serve scheduler running? See cxlab jobs"
        )
    return f"last job started {int((now - latest).total_seconds())} s ago"


def format_results(results: list[CheckResult]) -> str:
    """The table ``cxlab check`` prints."""
    width = max(len(r.name) for r in results)
    lines = [f"{'CHECK':<{width}}  STATUS  TIME    DETAIL"]
    for r in results:
        lines.append(f"{r.name:<{width}}  {r.status:<6}  {r.seconds:5.1f}s  {r.detail}")
    failed = [r.name for r in results if not r.ok]
    lines.append(f"FAILED: {', '.join(failed)}" if failed else "All checks passed.")
    return "\n".join(lines)
