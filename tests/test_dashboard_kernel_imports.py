"""What a dashboard kernel imports decides what it costs: each kernel is its own Python
process, so every module it imports is paid once per open page (benchmarks/RESULTS.md,
dashboard memory). scipy.stats (40 MB) and Alembic with Mako (25 MB) are not needed to
show a dashboard; this keeps them out."""

from __future__ import annotations

import os
import subprocess
import sys

from cxlab.dashboards.hook import kernel_environment
from cxlab.demo import demo_config

# A kernel's life: the pool's warm-up, then a page's data (already synced: the kernel
# reads the store and the database, it migrates nothing) and a few filter changes.
KERNEL_LIFE = """
import sys
from cxlab.config import Config
from cxlab.dashboards.prepare import warm_up
from cxlab.dashboards.data import load_dashboard_data
from cxlab.dashboards.view import compute_view, segment_values
from cxlab.dashboards.widget import Dashboard

warm_up(responses=120)
data = load_dashboard_data(Config.from_environ(), "demo", "store-visit")
board = Dashboard(data, language="en")
for period in ("all", "30d", "7d"):
    board.periods.value = period
board.segments.value = segment_values(data)[0]
compute_view(data, "90d", "", "ja")
print("imported:", *sorted(name for name in ("scipy.stats", "alembic", "mako")
                           if name in sys.modules))
"""


def run_kernel(script: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **kernel_environment(demo_config(responses=600))}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=False, env=environ)


def test_a_dashboard_kernel_imports_neither_scipy_stats_nor_the_migrations():
    result = run_kernel(KERNEL_LIFE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "imported:", result.stdout


def test_the_check_would_see_scipy_stats():
    """The same check, after importing scipy.stats on purpose, names it."""
    script = KERNEL_LIFE.replace("import sys\n", "import sys\nimport scipy.stats\n", 1)
    result = run_kernel(script)
    assert result.stdout.splitlines()[-1] == "imported: scipy.stats", result.stdout
