"""What every command module of the CLI shares: the group class that shows cxlab's
errors as one line, the configuration, and the parsing of a few option values."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from sqlalchemy.engine import make_url

from cxlab.config import Config
from cxlab.errors import CxlabError


class CxlabGroup(click.Group):
    """A click group that shows cxlab's own errors as messages, not tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CxlabError as error:
            raise click.ClickException(str(error)) from None


def load_config() -> Config:
    """The configuration from the CXLAB_* variables (read once per command)."""
    return Config.from_environ()


def shown_url(url: str) -> str:
    """A database URL as it may be printed: without its password.

    >>> shown_url("postgresql://cx:s3cret@db/cxlab")
    'postgresql://cx:***@db/cxlab'
    """
    return make_url(url).render_as_string(hide_password=True)


def parse_day(value: str | None, option: str) -> datetime | None:
    """A YYYY-MM-DD option value as midnight UTC, or a usage error naming ``option``.

    >>> parse_day("2026-09-01", "--start").isoformat()
    '2026-09-01T00:00:00+00:00'
    """
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-09-01", param_hint=option
        ) from None


def read_password() -> str:
    """A password from standard input, or asked for twice on a terminal."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")
