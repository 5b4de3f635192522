"""Load tests and capacity figures for the survey server.

- :func:`run_loadtest` — a bounded, headless locust run against a (loopback) target.
- :func:`capacity` — stepped load against a fresh seeded local stack, with a report.
- ``cxlab loadtest`` and ``cxlab capacity`` (:mod:`cxlab.cli.loadtest`) print them.

Nothing here imports locust: it runs in a child process (see ``scenarios``).
"""

from cxlab.loadtest.capacity import capacity, plan_verdict
from cxlab.loadtest.runner import LoadReport, is_loopback, prepare_workload, run_loadtest

__all__ = [
    "LoadReport", "capacity", "is_loopback", "plan_verdict", "prepare_workload",
    "run_loadtest",
]
