"""Job kinds: small classes behind one interface, found by name in :data:`KINDS`.

A kind owns the schedule keys only its jobs take (``keys``) and their checks
(``validate``); :mod:`cxlab.jobs.schedule` asks this registry, so a new kind is one
class here. A kind runs one try of a job for one tenant (or for the installation when
the job has no tenants) and returns the path of what it made, or raises
:class:`JobFailed` with what the operator needs: for a notebook, the failing cell and
its error, and the executed notebook kept next to the reports.

>>> list(KINDS)
['notebook', 'sync', 'email', 'command']
>>> kind_for("command").keys
('argv',)
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cxlab.config import Config
from cxlab.errors import CxlabError

if TYPE_CHECKING:  # the schedule asks this registry, so it cannot be imported here
    from cxlab.jobs.schedule import Job

# How a kind reports a problem of a schedule entry: problem(key, message).
Problem = Callable[[str, str], None]

log = logging.getLogger(__name__)

KERNEL_NAME = "python3"
KERNEL_START_TIMEOUT_SECONDS = 120


class JobFailed(CxlabError):
    """One try of a job failed; ``cell_index``/``ename``/``evalue`` say where for notebooks."""

    def __init__(
        self,
        message: str,
        *,
        cell_index: int | None = None,
        ename: str | None = None,
        evalue: str | None = None,
        output_path: Path | None = None,
    ) -> None:
        super().__init__(message)
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        self.output_path = output_path


@dataclass(frozen=True)
class TenantInfo:
    """The tenant a try runs for; ``language`` is that of its reports ("ja" or "en")."""

    slug: str
    name: str
    language: str = "ja"


@dataclass(frozen=True)
class RunContext:
    """Everything one try needs; ``start``/``end`` bound the period it reports on."""

    config: Config
    job: Job
    tenant: TenantInfo | None
    scheduled_for: datetime
    start: datetime
    end: datetime

    @property
    def period(self) -> str:
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    @property
    def stem(self) -> str:
        """The output file name without suffix: the local date, with the time when the
        job runs more than daily (so a day's runs do not overwrite each other)."""
        local = self.scheduled_for.astimezone(self.job.zone)
        if (self.end - self.start).total_seconds() < 86_400:
            return f"{local:%Y-%m-%dT%H%M}"
        return f"{local:%Y-%m-%d}"

    def output_dir(self) -> Path:
        tenant = self.tenant.slug if self.tenant else "_all"
        return self.config.var_dir / "reports" / tenant / self.job.name


class JobKind:
    """The interface: a kind has a ``name``, the schedule keys only its jobs take
    (``keys``), the tenants its jobs run for when the file says none
    (``default_tenants``), checks its keys (``validate``) and runs one try (``run``)."""

    name: ClassVar[str]
    keys: ClassVar[tuple[str, ...]] = ()
    default_tenants: ClassVar[str | None] = None

    def validate(self, item: Mapping[str, Any], root: Path, problem: Problem) -> None:
        """Report each problem of this kind's keys in schedule entry ``item`` with
        ``problem(key, message)``; relative paths are taken from ``root``."""

    def run(self, context: RunContext) -> Path | None:
        raise NotImplementedError


class NotebookKind(JobKind):
    """Execute the job's notebook with papermill for one tenant and export it to HTML."""

    name = "notebook"
    keys = ("notebook",)
    default_tenants = "all"

    def validate(self, item: Mapping[str, Any], root: Path, problem: Problem) -> None:
        """The notebook must be an existing .ipynb file.

        >>> problems = []
        >>> NotebookKind().validate({"notebook": "r.txt"}, Path("."),
        ...                         lambda key, message: problems.append((key, message)))
        >>> problems
        [('notebook', 'a notebook job needs the path of an .ipynb file')]
        """
        notebook = item.get("notebook")
        if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
            problem("notebook", "a notebook job needs the path of an .ipynb file")
        elif not (root / notebook).is_file():
            problem("notebook", f"{notebook!r} does not exist (relative to {root})")

    def run(self, context: RunContext) -> Path | None:
        # Imported here: papermill and nbconvert take a second to import, and only
        # notebook runs need them (the every-minute sync does not).
        import papermill
        from papermill.exceptions import PapermillExecutionError

        job, tenant = context.job, context.tenant
        if tenant is None:
            raise JobFailed(f"job {job.name!r}: a notebook job needs tenants (e.g. tenants: all)")
        directory = context.output_dir()
        directory.mkdir(parents=True, exist_ok=True)
        running = directory / f".{context.stem}.running.ipynb"
        parameters = notebook_parameters(context)
        try:
            executed = papermill.execute_notebook(
                str(job.notebook),
                str(running),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                execution_timeout=job.timeout,
                start_timeout=KERNEL_START_TIMEOUT_SECONDS,
                progress_bar=False,
                cwd=str(job.notebook.parent),
                # The outputs are in hand once the last cell ends; a graceful shutdown
                # only waits (1–2 s per report) for the kernel to tear its imports down.
                shutdown_kernel="immediate",
            )
        except PapermillExecutionError as error:
            failed = directory / f"{context.stem}.failed.ipynb"
            os.replace(running, failed)
            raise JobFailed(
                f"cell {error.cell_index} raised {error.ename}: {error.evalue} "
                f"(executed notebook: {failed})",
                cell_index=error.cell_index, ename=error.ename, evalue=error.evalue,
                output_path=failed,
            ) from None
        except Exception as error:  # kernel died, timed out, notebook unreadable, ...
            failed = directory / f"{context.stem}.failed.ipynb"
            if running.exists():
                os.replace(running, failed)
            raise JobFailed(
                f"{type(error).__name__}: {error}", ename=type(error).__name__,
                evalue=str(error), output_path=failed if failed.exists() else None,
            ) from None
        # A success replaces an earlier try's failed notebook for the same run.
        (directory / f"{context.stem}.failed.ipynb").unlink(missing_ok=True)
        outputs = []
        if "html" in job.formats:
            title = f"{tenant.name} — {job.name} — {context.period}"
            outputs.append(directory / f"{context.stem}.html")
            _write_atomically(outputs[-1], export_html(executed, title))
        if "ipynb" in job.formats:
            outputs.append(directory / f"{context.stem}.ipynb")
            os.replace(running, outputs[-1])
        else:
            running.unlink()
        return outputs[0]


def notebook_parameters(context: RunContext) -> dict:
    """The papermill parameters of a notebook try: the job's own, the tenant, the
    period, and the tenant's ``language`` unless the job sets one explicitly."""
    tenant = context.tenant
    assert tenant is not None
    parameters = {
        **context.job.parameters,
        "tenant": tenant.slug,
        "tenant_name": tenant.name,
        "start": context.start.isoformat(),
        "end": context.end.isoformat(),
    }
    if parameters.get("language") is None:
        parameters["language"] = tenant.language
    return parameters


REPORT_TEMPLATES = Path(__file__).with_name("templates")


def export_html(notebook, title: str) -> str:
    """A self-contained HTML page of a notebook's outputs (no code, images embedded)."""
    from nbconvert import HTMLExporter

    notebook.metadata["title"] = title
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True,
                            extra_template_basedirs=[str(REPORT_TEMPLATES)],
                            template_name="cxlab_report")
    resources = {"metadata": {"name": title}}
    body, _resources = exporter.from_notebook_node(notebook, resources=resources)
    return body


def _write_atomically(path: Path, text: str) -> None:
    # A reader (the portal) never sees half a report: write aside, then rename.
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class SyncKind(JobKind):
    """Bring the analytic store in line with the database and refresh the dashboards'
    opening views (:func:`cxlab.jobs.store_sync.sync_store`), verified."""

    name = "sync"

    def run(self, context: RunContext) -> Path | None:
        # Imported at run time: the store pulls in pyarrow, which other kinds never need.
        from cxlab.jobs import store_sync

        tenant = context.tenant.slug if context.tenant else None
        report = store_sync.sync_store(context.config, tenant=tenant, survey=None, verify=True)
        log.info("%s", report.sync.summary())
        for line in report.warnings + report.snapshots_skipped:
            log.warning("%s", line)
        if not report.ok:
            raise JobFailed("sync failed: " + "; ".join(report.problems[:5]))
        return None


class CommandKind(JobKind):
    """Run a program from an argv list (never through a shell). In an argument,
    ``{tenant}`` is replaced by the tenant's slug, ``{start_date}`` and ``{end_date}``
    by the first and last day of the period the run covers (YYYY-MM-DD in the job's
    timezone): a daily job due today covers yesterday, so ``--date {start_date}``."""

    name = "command"
    keys = ("argv",)

    def validate(self, item: Mapping[str, Any], root: Path, problem: Problem) -> None:
        """argv must be a non-empty list of strings (it runs without a shell)."""
        argv = item.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            problem("argv", "a command job needs argv: a list of strings (no shell), "
                    "e.g. ['cxlab', 'tenant', 'list']")

    def run(self, context: RunContext) -> Path | None:
        argv = [command_argument(argument, context) for argument in context.job.argv]
        # The project's environment comes first, so `python` or `cxlab` in a schedule
        # mean this installation's even when its virtualenv is not on PATH.
        search_path = os.pathsep.join([str(Path(sys.executable).parent),
                                       os.environ.get("PATH", "")])
        argv[0] = shutil.which(argv[0], path=search_path) or argv[0]
        try:
            result = subprocess.run(argv, capture_output=True, text=True,
                                    timeout=context.job.timeout, check=False)
        except FileNotFoundError:
            raise JobFailed(f"program {argv[0]!r} not found; check the job's argv") from None
        except subprocess.TimeoutExpired:
            raise JobFailed(f"{argv[0]} ran longer than {context.job.timeout} s") from None
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise JobFailed(f"{argv[0]} exited with code {result.returncode}: " + " / ".join(tail))
        return None


def command_argument(argument: str, context: RunContext) -> str:
    """``argument`` of a command job with its placeholders filled in for ``context``.

    >>> from datetime import UTC
    >>> from cxlab.jobs.schedule import Job
    >>> job = Job(name="watch", cron="30 0 * * *", kind="command", timezone="UTC")
    >>> context = RunContext(None, job, TenantInfo("acme", "Acme"),
    ...     datetime(2026, 11, 20, 0, 30, tzinfo=UTC), start=datetime(2026, 11, 19, 0, 30,
    ...     tzinfo=UTC), end=datetime(2026, 11, 20, 0, 30, tzinfo=UTC))
    >>> [command_argument(a, context) for a in ("{tenant}", "--date={start_date}", "{end_date}")]
    ['acme', '--date=2026-11-19', '2026-11-20']
    """
    zone = context.job.zone
    return (argument.replace("{tenant}", context.tenant.slug if context.tenant else "")
            .replace("{start_date}", f"{context.start.astimezone(zone):%Y-%m-%d}")
            .replace("{end_date}", f"{context.end.astimezone(zone):%Y-%m-%d}"))


class EmailKind(JobKind):
    """Send the outbox (cxlab.outbox) in batches at a limited rate; with parameter
    ``reminders: true`` first queue the reminders that are due. Parameters
    ``batch_size``, ``rate`` (messages per second) and ``time_budget`` (seconds, so an
    every-minute job ends before the next) are optional."""

    name = "email"

    def run(self, context: RunContext) -> Path | None:
        from cxlab.db import Database
        from cxlab.distribution.mailing import queue_reminders
        from cxlab.outbox import DEFAULT_BATCH_SIZE, DEFAULT_RATE, send_queued
        from cxlab.tenancy import get_tenant

        parameters = context.job.parameters
        tenant = context.tenant.slug if context.tenant else None
        with Database.open(context.config, must_be_migrated=False) as database:
            if parameters.get("reminders"):
                with database.session() as session:
                    owner = get_tenant(session, tenant) if tenant else None
                    queue_reminders(session, context.config, tenant=owner)
            report = send_queued(
                database, context.config, tenant=tenant,
                batch_size=int(parameters.get("batch_size", DEFAULT_BATCH_SIZE)),
                rate=float(parameters.get("rate", DEFAULT_RATE)),
                time_budget=parameters.get("time_budget", context.job.timeout * 0.8),
            )
        if report.unknown:
            raise JobFailed(f"{report.summary()}: {report.unknown} e-mail(s) need review "
                            "(status 'unknown'; see docs/distribution.md)")
        return None


KINDS: dict[str, JobKind] = {kind.name: kind for kind in
                             (NotebookKind(), SyncKind(), EmailKind(), CommandKind())}


def kind_for(name: str) -> JobKind:
    """The registered kind called ``name`` (the schedule has checked it exists)."""
    return KINDS[name]
