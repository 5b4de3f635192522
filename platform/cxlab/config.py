"""Configuration, read once from the environment (12-factor) and passed down.

Every CXLAB_* variable is read here, by :meth:`Config.from_environ`, and nowhere else:
other modules receive a :class:`Config`. docs/configuration.md lists every field's
variable; tests/test_config.py checks both. Variables of other programs that cxlab
passes on or sets for a child process (``PATH``, ``BROWSER_PATH`` for kaleido,
``JUPYTER_PATH``) are not settings of cxlab, nor are the test suite's own switches
(``CXLAB_TEST_POSTGRES_URL``, ``CXLAB_REQUIRE_ALL``, ``CXLAB_UPDATE_SCREENSHOTS``, read
by tests/conftest.py).

>>> config = Config.from_environ({"CXLAB_VAR_DIR": "/tmp/cxlab-doc"})
>>> config.database_url
'sqlite:////tmp/cxlab-doc/cxlab.db'
>>> config.outbox_dir
PosixPath('/tmp/cxlab-doc/outbox')
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cxlab.errors import CxlabError

ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_LENGTH = 32
MIN_METRICS_TOKEN_LENGTH = 16
# The periods a dashboard offers (cxlab.dashboards.view.PERIODS; a test keeps them equal).
DASHBOARD_PERIODS = ("all", "90d", "30d", "7d")
CHART_IMAGE_SETTINGS = ("auto", "off")
# The project folder (the one holding platform/): where a notebook's var/ is.
PROJECT_DIR = Path(__file__).resolve().parents[2]


def setting(variable: str, default: Any = MISSING) -> Any:
    """A :class:`Config` field read from the environment variable ``variable``."""
    return field(default=default, metadata={"variable": variable})


class ConfigError(CxlabError):
    """A configuration variable has a bad value; the message names the variable."""


@dataclass(frozen=True)
class Config:
    """Everything cxlab needs to know about its surroundings: one field per CXLAB_*
    variable (its name in the field's metadata, ``variable``)."""

    env: str = setting("CXLAB_ENV")
    var_dir: Path = setting("CXLAB_VAR_DIR")
    database_url: str = setting("CXLAB_DATABASE_URL")
    store_url: str = setting("CXLAB_STORE_URL")
    secret_key: str = setting("CXLAB_SECRET_KEY")
    smtp_url: str | None = setting("CXLAB_SMTP_URL")
    webhook_url: str | None = setting("CXLAB_WEBHOOK_URL")
    # Survey server: the largest request body accepted (413 beyond it), and how long a
    # respondent's saved partial answers to a long survey can be resumed.
    max_body_bytes: int = setting("CXLAB_MAX_BODY_BYTES", 2_000_000)
    resume_days: int = setting("CXLAB_RESUME_DAYS", 14)
    # How long a server worker may reuse an API key's tenant or a survey row it read.
    lookup_ttl_seconds: int = setting("CXLAB_LOOKUP_TTL", 5)
    # How long a scheduled job's run stays locked after its runner's last sign of life
    # (renewed every third of it): then another scheduler takes the run over.
    job_lease_seconds: int = setting("CXLAB_JOB_LEASE_SECONDS", 60)
    # Where Voila serves the dashboards; the portal redirects there with a token.
    dashboard_url: str = setting("CXLAB_DASHBOARD_URL", "http://127.0.0.1:8866")
    # The dashboard server's kernels: warm ones kept ready, caps on live ones (0: no
    # cap), and when an unused one is shut down (see docs/dashboards.md).
    dashboard_warm_kernels: int = setting("CXLAB_DASHBOARD_WARM_KERNELS", 2)
    dashboard_max_kernels: int = setting("CXLAB_DASHBOARD_MAX_KERNELS", 20)
    dashboard_max_kernels_per_tenant: int = setting("CXLAB_DASHBOARD_MAX_KERNELS_PER_TENANT", 8)
    dashboard_connect_timeout: int = setting("CXLAB_DASHBOARD_CONNECT_TIMEOUT", 30)
    dashboard_idle_timeout: int = setting("CXLAB_DASHBOARD_IDLE_TIMEOUT", 900)
    # The periods whose view over every segment the sync renders as a static page, so
    # choosing one opens no kernel (docs/dashboards.md); "all" is the opening view.
    dashboard_static_periods: tuple[str, ...] = setting("CXLAB_DASHBOARD_STATIC_PERIODS",
                                                        DASHBOARD_PERIODS)
    # How many segments (the largest first) get a static page of the whole period, so a
    # store chosen on the opening page opens no kernel either; 0: none.
    dashboard_static_segments: int = setting("CXLAB_DASHBOARD_STATIC_SEGMENTS", 50)
    # The survey server's address as respondents reach it: the base of the personal
    # links and unsubscribe links in e-mails, which are read far from any request.
    public_url: str = setting("CXLAB_PUBLIC_URL", "http://127.0.0.1:8080")
    # The From: of invitation and reminder e-mails.
    mail_from: str = setting("CXLAB_MAIL_FROM", "cxlab <no-reply@localhost>")
    # A portal session ends after this many minutes unused, and after this many hours
    # whatever happens (OWASP session management: idle and absolute timeouts).
    session_idle_minutes: int = setting("CXLAB_SESSION_IDLE_MINUTES", 60)
    session_max_hours: int = setting("CXLAB_SESSION_MAX_HOURS", 12)
    # /metrics answers only to "Authorization: Bearer <token>"; unset, it is 404.
    metrics_token: str | None = setting("CXLAB_METRICS_TOKEN", None)
    # Proxies whose X-Forwarded-For names the client (the TLS proxy in front).
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = setting("CXLAB_TRUSTED_PROXIES", ())
    # /healthz fails when the var dir's (or the SQLite database's) file system has less
    # free space than this, so a load balancer stops sending answers before writes fail.
    min_free_mb: int = setting("CXLAB_MIN_FREE_MB", 100)
    # The survey server's limit on connecting to PostgreSQL, on each statement and on
    # waiting for a pooled connection: a frozen database answers 503 within about this.
    db_timeout_seconds: int = setting("CXLAB_DB_TIMEOUT", 2)
    # Still images of the dashboards' charts in the sync's snapshots: "auto" where this
    # machine can render them (Chromium, and a Japanese font for Japanese), or "off".
    chart_images: str = setting("CXLAB_CHART_IMAGES", "auto")

    @property
    def outbox_dir(self) -> Path:
        """Where e-mails go as .eml files when no CXLAB_SMTP_URL is set."""
        return self.var_dir / "outbox"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def for_notebook(cls, environ: Mapping[str, str] | None = None) -> Config:
        """:meth:`from_environ` for a notebook kernel, whose working directory is the
        notebook's folder: an unset CXLAB_VAR_DIR means the project's ``var/`` (as for
        the CLI run from the project folder), not a ``var/`` beside the notebook.

        >>> Config.for_notebook({"CXLAB_SECRET_KEY": "k" * 40}).var_dir == PROJECT_DIR / "var"
        True
        """
        environ = os.environ if environ is None else environ
        return cls.from_environ({"CXLAB_VAR_DIR": str(PROJECT_DIR / "var"), **environ})

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read CXLAB_* variables; raise :class:`ConfigError` naming the bad one."""
        environ = os.environ if environ is None else environ
        env = environ.get("CXLAB_ENV", "development")
        if env not in ENVIRONMENTS:
            raise ConfigError(f"CXLAB_ENV: must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
        var_dir = Path(environ.get("CXLAB_VAR_DIR", "var")).resolve()
        return cls(
            env=env,
            var_dir=var_dir,
            database_url=_database_url(environ.get("CXLAB_DATABASE_URL"), var_dir),
            store_url=environ.get("CXLAB_STORE_URL") or str(var_dir / "store"),
            secret_key=_secret_key(environ.get("CXLAB_SECRET_KEY"), env, var_dir),
            smtp_url=_smtp_url(environ.get("CXLAB_SMTP_URL")),
            webhook_url=_webhook_url(environ.get("CXLAB_WEBHOOK_URL")),
            max_body_bytes=_whole_number(environ, "CXLAB_MAX_BODY_BYTES", 2_000_000),
            resume_days=_whole_number(environ, "CXLAB_RESUME_DAYS", 14),
            lookup_ttl_seconds=_whole_number(environ, "CXLAB_LOOKUP_TTL", 5, minimum=0),
            job_lease_seconds=_whole_number(environ, "CXLAB_JOB_LEASE_SECONDS", 60,
                                            minimum=3),
            dashboard_url=_http_url(
                environ, "CXLAB_DASHBOARD_URL", "http://127.0.0.1:8866"
            ).rstrip("/"),
            dashboard_warm_kernels=_whole_number(
                environ, "CXLAB_DASHBOARD_WARM_KERNELS", 2, minimum=0, maximum=32),
            dashboard_max_kernels=_whole_number(
                environ, "CXLAB_DASHBOARD_MAX_KERNELS", 20, minimum=0),
            dashboard_max_kernels_per_tenant=_whole_number(
                environ, "CXLAB_DASHBOARD_MAX_KERNELS_PER_TENANT", 8, minimum=0),
            dashboard_connect_timeout=_whole_number(
                environ, "CXLAB_DASHBOARD_CONNECT_TIMEOUT", 30),
            dashboard_idle_timeout=_whole_number(environ, "CXLAB_DASHBOARD_IDLE_TIMEOUT", 900),
            dashboard_static_periods=_static_periods(
                environ.get("CXLAB_DASHBOARD_STATIC_PERIODS")),
            dashboard_static_segments=_whole_number(
                environ, "CXLAB_DASHBOARD_STATIC_SEGMENTS", 50, minimum=0),
            public_url=_http_url(environ, "CXLAB_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/"),
            mail_from=environ.get("CXLAB_MAIL_FROM") or "cxlab <no-reply@localhost>",
            session_idle_minutes=_whole_number(environ, "CXLAB_SESSION_IDLE_MINUTES", 60),
            session_max_hours=_whole_number(environ, "CXLAB_SESSION_MAX_HOURS", 12),
            metrics_token=_metrics_token(environ.get("CXLAB_METRICS_TOKEN")),
            trusted_proxies=_networks(environ.get("CXLAB_TRUSTED_PROXIES")),
            min_free_mb=_whole_number(environ, "CXLAB_MIN_FREE_MB", 100, minimum=0),
            db_timeout_seconds=_whole_number(environ, "CXLAB_DB_TIMEOUT", 2),
            chart_images=_choice(environ, "CXLAB_CHART_IMAGES", CHART_IMAGE_SETTINGS),
        )


def _whole_number(
    environ: Mapping[str, str], name: str, default: int, *, minimum: int = 1,
    maximum: int | None = None,
) -> int:
    value = environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum or (maximum is not None and number > maximum):
        within = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ConfigError(f"{name}: must be a whole number {within}, got {value!r}")
    return number


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset), in any case.

    >>> _choice({"CXLAB_CHART_IMAGES": " Off "}, "CXLAB_CHART_IMAGES", ("auto", "off"))
    'off'
    """
    value = (environ.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
    return value


def _database_url(value: str | None, var_dir: Path) -> str:
    if not value:
        return f"sqlite:///{var_dir / 'cxlab.db'}"
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(
            f"CXLAB_DATABASE_URL: {value!r} is not a database URL; "
            "use e.g. sqlite:///var/cxlab.db or postgresql://user@host:5432/cxlab"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"CXLAB_DATABASE_URL: unsupported database {backend!r}; use sqlite or postgresql"
        )
    if backend == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _secret_key(value: str | None, env: str, var_dir: Path) -> str:
    if env == "production":
        if not value:
            raise ConfigError(
                "CXLAB_SECRET_KEY: required when CXLAB_ENV=production; generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if len(value) < MIN_SECRET_LENGTH or len(set(value)) < 10:
            raise ConfigError(
                f"CXLAB_SECRET_KEY: too weak (needs at least {MIN_SECRET_LENGTH} varied "
                "characters); generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return value
    if value:
        return value
    # Development: one random key, generated once, so signed links survive restarts.
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


def _static_periods(value: str | None) -> tuple[str, ...]:
    """The comma-separated periods of CXLAB_DASHBOARD_STATIC_PERIODS, "all" always
    among them; unset: every period.

    >>> _static_periods("30d, 7d")
    ('all', '30d', '7d')
    >>> _static_periods("week")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cxlab.config.ConfigError: ...: 'week' is not a dashboard period; use some of all, 90d, ...
    """
    if value is None or not value.strip():
        return DASHBOARD_PERIODS
    chosen = {part.strip() for part in value.split(",") if part.strip()}
    for period in sorted(chosen - set(DASHBOARD_PERIODS)):
        raise ConfigError(f"CXLAB_DASHBOARD_STATIC_PERIODS: {period!r} is not a dashboard "
                          f"period; use some of {', '.join(DASHBOARD_PERIODS)}")
    return tuple(period for period in DASHBOARD_PERIODS if period == "all" or period in chosen)


def _networks(value: str | None) -> tuple[IPv4Network | IPv6Network, ...]:
    """``CXLAB_TRUSTED_PROXIES``: CIDRs or addresses separated by commas or spaces.

    >>> _networks("127.0.0.1, 10.0.0.0/8")
    (IPv4Network('127.0.0.1/32'), IPv4Network('10.0.0.0/8'))
    """
    networks = []
    for part in (value or "").replace(",", " ").split():
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(
                f"CXLAB_TRUSTED_PROXIES: {part!r} is not an address or CIDR "
                "(e.g. 10.0.0.0/8, 127.0.0.1)"
            ) from None
    return tuple(networks)


def _metrics_token(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) < MIN_METRICS_TOKEN_LENGTH or not value.isprintable() or " " in value:
        raise ConfigError(
            f"CXLAB_METRICS_TOKEN: use at least {MIN_METRICS_TOKEN_LENGTH} printable "
            "characters without spaces; make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value


def _smtp_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            f"CXLAB_SMTP_URL: {value!r} must look like smtp://user:password@host:587 "
            "or smtps://host:465 (leave it unset to write e-mails to var/outbox)"
        )
    try:
        parts.port  # noqa: B018 - urlsplit raises on a non-numeric port only when asked
    except ValueError:
        raise ConfigError(f"CXLAB_SMTP_URL: the port in {value!r} is not a number") from None
    return value


def _webhook_url(value: str | None) -> str | None:
    if not value:
        return None
    return _http_url({"CXLAB_WEBHOOK_URL": value}, "CXLAB_WEBHOOK_URL", "")


def _http_url(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name) or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: {value!r} must be an http(s):// URL")
    return value
