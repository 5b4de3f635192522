"""Scheduled jobs: the schedule file, job kinds, the runner and the scheduler loop.

See docs/scheduling.md. The CLI calls :func:`run_job_command`, :func:`jobs_command`
and :func:`serve_scheduler`; everything else is for the library and tests.
"""

from cxlab.jobs.commands import jobs_command, run_job_command
from cxlab.jobs.runner import RunOutcome, TenantResult, run_job
from cxlab.jobs.schedule import Job, Schedule, ScheduleError, load_schedule, parse_schedule
from cxlab.jobs.scheduler import serve_scheduler

__all__ = [
    "Job", "RunOutcome", "Schedule", "ScheduleError", "TenantResult", "jobs_command",
    "load_schedule", "parse_schedule", "run_job", "run_job_command", "serve_scheduler",
]
