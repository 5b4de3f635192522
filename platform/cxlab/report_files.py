"""A tenant's finished report files, as the scheduler leaves them:
``<var_dir>/reports/<tenant>/<job>/<date>.html`` (and ``.ipynb`` when asked for).

Only names the scheduler writes are ever listed or opened: a job name and a dated file
name, inside the tenant's own folder after every symlink is resolved. Anything else
(``..``, absolute paths, running or failed notebooks, links pointing outside) is not
found.

>>> import tempfile
>>> var_dir = Path(tempfile.mkdtemp())
>>> folder = var_dir / "reports" / "acme" / "weekly"
>>> folder.mkdir(parents=True)
>>> for name in ("2026-05-01.html", "2026-05-08.html", ".2026-05-15.running.ipynb"):
...     _ = (folder / name).write_text("<p>report</p>")
>>> [report.file_name for report in list_reports(var_dir, "acme")]
['2026-05-08.html', '2026-05-01.html']
>>> find_report(var_dir, "acme", "weekly", "../../other/weekly/2026-05-01.html") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

JOB_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
REPORT_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}(?:T\d{4})?)\.(html|ipynb)$")
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "ipynb": "application/x-ipynb+json"}


@dataclass(frozen=True)
class ReportFile:
    job: str
    file_name: str
    stem: str
    format: str
    path: Path

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def list_reports(var_dir: Path, tenant_slug: str) -> list[ReportFile]:
    """The tenant's reports, newest first (by the date in their names), then by job."""
    root = _tenant_root(var_dir, tenant_slug)
    if root is None:
        return []
    found = []
    for job_dir in root.iterdir():
        if not JOB_NAME.match(job_dir.name) or not job_dir.is_dir():
            continue
        for path in job_dir.iterdir():
            report = find_report(var_dir, tenant_slug, job_dir.name, path.name)
            if report is not None:
                found.append(report)
    return sorted(found, key=lambda report: (report.stem, report.job, report.format),
                  reverse=True)


def find_report(var_dir: Path, tenant_slug: str, job: str, file_name: str) -> ReportFile | None:
    """The tenant's report ``job``/``file_name`` if it is a genuine one, else None."""
    match = REPORT_NAME.match(file_name)
    root = _tenant_root(var_dir, tenant_slug)
    if root is None or match is None or not JOB_NAME.match(job):
        return None
    candidate = root / job / file_name
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    # A symlink may stay only if it points inside the tenant's own folder.
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return ReportFile(job=job, file_name=file_name, stem=match.group(1),
                      format=match.group(2), path=resolved)


def _tenant_root(var_dir: Path, tenant_slug: str) -> Path | None:
    if not JOB_NAME.match(tenant_slug):  # tenant slugs follow the same pattern
        return None
    root = var_dir / "reports" / tenant_slug
    try:
        resolved = root.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_dir() else None
