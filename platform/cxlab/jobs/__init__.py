"""Scheduled jobs: the schedule file, job kinds, the runner and the scheduler loop.

See docs/scheduling.md. The CLI (:mod:`cxlab.cli.jobs`, :mod:`cxlab.cli.serve`) calls
:func:`run_job`, :func:`~cxlab.jobs.history.recent_runs` and :func:`serve_scheduler`.
"""

from cxlab.jobs.runner import RunOutcome, TenantResult, run_job
from cxlab.jobs.schedule import Job, Schedule, ScheduleError, load_schedule, parse_schedule
from cxlab.jobs.scheduler import serve_scheduler

__all__ = [
    "Job", "RunOutcome", "Schedule", "ScheduleError", "TenantResult", "load_schedule",
    "parse_schedule", "run_job", "serve_scheduler",
]
