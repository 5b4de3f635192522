"""The schedule file: which jobs run when, for which tenants (see docs/scheduling.md).

:func:`parse_schedule` checks everything at once and raises one :class:`ScheduleError`
listing every problem with its path in the file (``jobs[2].cron: ...``), so a bad
schedule is fixed in one go and never shows a traceback.

>>> from datetime import UTC
>>> schedule = parse_schedule({"jobs": [
...     {"name": "weekly-report", "kind": "notebook", "cron": "0 7 * * MON",
...      "notebook": "notebooks/reports/weekly.ipynb"}]})
>>> job = schedule.job("weekly-report")
>>> job.timezone, job.tenants, job.formats
('Asia/Tokyo', 'all', ('html',))
>>> latest_due(job, datetime(2026, 11, 25, 12, 0, tzinfo=UTC)).isoformat()
'2026-11-23T07:00:00+09:00'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter

from cxlab.errors import CxlabError, NotFound
from cxlab.jobs.kinds import KINDS

FORMATS = ("html", "ipynb")
DEFAULT_TIMEZONE = "Asia/Tokyo"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# The project root is the folder holding scheduled/; relative notebook paths start there.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SCHEDULE_PATH = PROJECT_ROOT / "scheduled" / "schedule.yaml"
# The keys every job may have; each kind adds its own (JobKind.keys).
COMMON_KEYS = {
    "name", "cron", "timezone", "kind", "parameters", "tenants", "formats", "retention",
    "timeout", "retries", "retry_backoff", "notify",
}


class ScheduleError(CxlabError):
    """The schedule file is invalid; the message lists every problem with its path."""


@dataclass(frozen=True)
class Job:
    """One scheduled job, as validated from the schedule file.

    ``tenants`` is ``"all"``, a tuple of tenant slugs, ``{"plan": "..."}``, or ``None``
    for a job that runs once for the whole installation (e.g. ``sync``).
    """

    name: str
    cron: str
    kind: str
    timezone: str = DEFAULT_TIMEZONE
    notebook: Path | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tenants: str | tuple[str, ...] | Mapping[str, str] | None = None
    formats: tuple[str, ...] = ("html",)
    retention: int | None = None
    timeout: int = 600
    retries: int = 0
    retry_backoff: float = 30.0
    notify: bool = True
    argv: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Schedule:
    jobs: tuple[Job, ...]

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        known = ", ".join(job.name for job in self.jobs) or "none"
        raise NotFound(f"no job {name!r} in the schedule (jobs: {known})")


def load_schedule(path: Path | str = DEFAULT_SCHEDULE_PATH) -> Schedule:
    """Read and validate a schedule file; relative notebook paths are taken from the
    folder that holds the file's folder (the project root for scheduled/schedule.yaml)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScheduleError(f"{path}: no such schedule file") from None
    except yaml.YAMLError as error:
        raise ScheduleError(f"{path}: not valid YAML: {error}") from None
    return parse_schedule(raw, root=path.resolve().parent.parent, source=str(path))


def parse_schedule(raw: Any, *, root: Path = PROJECT_ROOT, source: str = "schedule") -> Schedule:
    """Validate a parsed schedule document (see the module example)."""
    problems: list[str] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("jobs"), list):
        raise ScheduleError(f"{source}: must be a mapping with a list under 'jobs'")
    unknown = set(raw) - {"jobs"}
    if unknown:
        problems.append(f"unknown key(s) {', '.join(sorted(unknown))} (only 'jobs' is allowed)")
    jobs = []
    names: set[str] = set()
    for index, item in enumerate(raw["jobs"]):
        path = f"jobs[{index}]"
        job = _parse_job(item, path, root, problems)
        if job is None:
            continue
        if job.name in names:
            problems.append(f"{path}.name: {job.name!r} is used by an earlier job")
        names.add(job.name)
        jobs.append(job)
    if problems:
        raise ScheduleError(f"{source} has {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return Schedule(tuple(jobs))


def _parse_job(item: Any, path: str, root: Path, problems: list[str]) -> Job | None:
    if not isinstance(item, dict):
        problems.append(f"{path}: must be a mapping with name, cron and kind")
        return None
    before = len(problems)

    def problem(key: str, message: str) -> None:
        problems.append(f"{path}.{key}: {message}")

    # Asked at each parse, so a kind registered later brings its keys along.
    allowed = COMMON_KEYS.union(*(registered.keys for registered in KINDS.values()))
    for key in sorted(set(item) - allowed):
        problem(key, f"unknown key (allowed: {', '.join(sorted(allowed))})")
    name = item.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problem("name", f"{name!r}: use lowercase letters, digits and '-' (e.g. weekly-report)")
    cron = item.get("cron")
    if not isinstance(cron, str) or not _valid_cron(cron):
        problem("cron", f"{cron!r} is not a cron expression; use five fields "
                "'minute hour day-of-month month day-of-week', e.g. '0 7 * * MON'")
    timezone = item.get("timezone", DEFAULT_TIMEZONE)
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        problem("timezone", f"{timezone!r} is not an IANA time zone (e.g. Asia/Tokyo, UTC)")
    kind = item.get("kind")
    job_kind = KINDS.get(kind) if isinstance(kind, str) else None
    if job_kind is None:
        problem("kind", f"{kind!r}: must be one of {', '.join(KINDS)}")
    else:
        job_kind.validate(item, root, problem)
    for other in KINDS.values():
        for key in other.keys:
            if other is not job_kind and key in item:
                problem(key, f"only {other.name} jobs take {key}, not {kind!r} jobs")
    parameters = item.get("parameters", {})
    if not isinstance(parameters, dict) or not all(isinstance(k, str) for k in parameters):
        problem("parameters", "must be a mapping of parameter name to value")
    default_tenants = job_kind.default_tenants if job_kind else None
    tenants = _tenants(item.get("tenants", default_tenants), problem)
    formats = item.get("formats", ["html"])
    if not isinstance(formats, list) or not formats or not set(formats) <= set(FORMATS):
        problem("formats", f"{formats!r}: a list of one or more of {', '.join(FORMATS)}")
    retention = item.get("retention")
    if retention is not None and not _whole(retention, 1):
        problem("retention", f"{retention!r}: days to keep outputs, a whole number above 0")
    timeout = item.get("timeout", 600)
    if not _whole(timeout, 1):
        problem("timeout", f"{timeout!r}: seconds per notebook cell (or per command), above 0")
    retries = item.get("retries", 0)
    if not _whole(retries, 0):
        problem("retries", f"{retries!r}: how many times to retry a failed run, 0 or more")
    backoff = item.get("retry_backoff", 30)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
        problem("retry_backoff", f"{backoff!r}: seconds before the first retry, 0 or more")
    notify = item.get("notify", True)
    if not isinstance(notify, bool):
        problem("notify", f"{notify!r}: true or false")
    if len(problems) > before:
        return None
    notebook, argv = item.get("notebook"), item.get("argv", [])
    return Job(
        name=name, cron=cron, kind=kind, timezone=str(timezone),
        notebook=(root / notebook) if notebook else None, parameters=dict(parameters),
        tenants=tenants, formats=tuple(formats), retention=retention, timeout=timeout,
        retries=retries, retry_backoff=float(backoff), notify=notify, argv=tuple(argv),
    )


def _tenants(value: Any, problem) -> str | tuple[str, ...] | dict[str, str] | None:
    if value is None or value == "all":
        return value
    if isinstance(value, list) and value and all(isinstance(slug, str) for slug in value):
        return tuple(value)
    if isinstance(value, dict) and set(value) == {"plan"} and isinstance(value["plan"], str):
        return dict(value)
    problem("tenants", f"{value!r}: use 'all', a list of tenant slugs, or {{plan: NAME}}")
    return None


def _whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _valid_cron(expression: str) -> bool:
    # Five fields (or an @alias) only: croniter also takes a seconds field, which
    # cron, Kubernetes and Airflow do not, so a schedule using it could not be moved there.
    if not expression.startswith("@") and len(expression.split()) != 5:
        return False
    return croniter.is_valid(expression)


def latest_due(job: Job, now: datetime) -> datetime:
    """The most recent time at or before ``now`` that ``job`` was due, in its timezone.

    >>> from datetime import UTC
    >>> job = Job(name="month-end", cron="0 0 L * *", kind="sync", timezone="UTC")
    >>> latest_due(job, datetime(2026, 3, 15, tzinfo=UTC)).date().isoformat()
    '2026-02-28'
    """
    # croniter's get_prev is strictly before its start; starting a second later makes a
    # run that is due exactly now count as due (cron fields have minute resolution).
    start = now.astimezone(job.zone).replace(microsecond=0) + timedelta(seconds=1)
    return croniter(job.cron, start).get_prev(datetime)


def previous_due(job: Job, due: datetime) -> datetime:
    """The due time before ``due``: the start of the period a run at ``due`` covers."""
    return croniter(job.cron, due.astimezone(job.zone)).get_prev(datetime)


def next_due(job: Job, after: datetime) -> datetime:
    """The first due time strictly after ``after``."""
    return croniter(job.cron, after.astimezone(job.zone)).get_next(datetime)


def pending_due(
    job: Job, now: datetime, last_scheduled: datetime | None, started_at: datetime
) -> datetime | None:
    """The one due time the scheduler should run now, or None.

    After downtime only the latest missed time is returned (catch-up runs once, not
    once per missed slot). With no recorded run, times before the scheduler started
    are not caught up, so a fresh install does not run last week's report at start.

    >>> from datetime import UTC
    >>> job = Job(name="daily", cron="0 7 * * *", kind="sync", timezone="UTC")
    >>> last = datetime(2026, 11, 1, 7, tzinfo=UTC)
    >>> pending_due(job, datetime(2026, 11, 5, 9, tzinfo=UTC), last, last).isoformat()
    '2026-11-05T07:00:00+00:00'
    >>> pending_due(job, datetime(2026, 11, 1, 9, tzinfo=UTC), last, last) is None
    True
    """
    due = latest_due(job, now)
    baseline = last_scheduled if last_scheduled is not None else started_at
    if last_scheduled is None:
        return due if due >= baseline else None
    return due if due > baseline else None
