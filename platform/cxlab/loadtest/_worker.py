"""The load generator's process: ``python -m cxlab.loadtest._worker SPEC.json OUT.json``.

It runs in a process of its own because locust monkey-patches everything with gevent
on import (see :mod:`cxlab.loadtest.scenarios`). It reads the run's spec, runs locust
headless for a bounded time and writes the statistics as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

PERCENTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    import gevent
    from locust.env import Environment

    from cxlab.loadtest.scenarios import Workload, user_classes
    from cxlab.surveys import load_definition

    definition = load_definition(Path(spec["definition_path"]))
    workload = Workload(**spec["workload"])
    classes = user_classes(workload, definition, spec["weights"], spec["think_scale"])
    environment = Environment(user_classes=classes, host=spec["url"])
    runner = environment.create_local_runner()
    started = time.monotonic()
    runner.start(spec["users"], spawn_rate=spec["spawn_rate"])
    # The duration bounds the run; users mid-journey are stopped, not waited for.
    gevent.sleep(spec["duration"])
    elapsed = time.monotonic() - started
    runner.quit()
    return _statistics(environment.stats, elapsed)


def _statistics(stats, elapsed: float) -> dict[str, Any]:
    requests = []
    for entry in stats.entries.values():
        requests.append({
            "name": entry.name, "method": entry.method, "requests": entry.num_requests,
            "failures": entry.num_failures,
            **{key: _percentile(entry, q) for key, q in PERCENTILES.items()},
        })
    total = stats.total
    return {
        "elapsed_s": elapsed,
        "requests": total.num_requests,
        "failures": total.num_failures,
        **{key: _percentile(total, q) for key, q in PERCENTILES.items()},
        "by_request": sorted(requests, key=lambda item: item["name"]),
        "errors": [
            f"{error.method} {error.name}: {error.error} ({error.occurrences}x)"
            for error in stats.errors.values()
        ],
    }


def _percentile(entry, quantile: float) -> float | None:
    return float(entry.get_response_time_percentile(quantile)) if entry.num_requests else None


def main(argv: list[str]) -> int:
    spec_path, output_path = Path(argv[0]), Path(argv[1])
    result = run(json.loads(spec_path.read_text()))
    output_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
