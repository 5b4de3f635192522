"""A capacity report read back for a notebook: find it, tabulate and chart its steps,
and say the verdict in plain words (``notebooks/ops/capacity.ipynb``).

The report is the ``capacity.json`` that :func:`cxlab.loadtest.capacity.capacity`
writes under ``var/reports/ops/``. :func:`example_report` is a small synthetic report
in the same shape, for a machine where no capacity run has been made yet.

>>> document = example_report()
>>> steps_table(document)["holds"].tolist()
[True, True, True, False]
>>> capacity_verdict(document).startswith("Highest sustained: 42.0 responses/s (20 users")
True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from cxlab.loadtest.capacity import (
    LIMIT_NOT_REACHED,
    SLO_P95_MS,
    plan_sentences,
    plan_verdict,
    sustained_sentences,
)

REPORT_PATTERN = "capacity*.json"


def newest_report(report_dir: Path) -> Path | None:
    """The most recently written capacity report under ``report_dir`` (subfolders
    included), or None when there is none."""
    found = sorted(report_dir.rglob(REPORT_PATTERN), key=lambda path: path.stat().st_mtime)
    return found[-1] if found else None


def load_report(path: Path) -> dict[str, Any]:
    """The report written by ``cxlab capacity``, as a dict."""
    return json.loads(Path(path).read_text())


def example_report() -> dict[str, Any]:
    """A synthetic report (four steps, the last breaking the SLO, a send plan), shaped
    like the real one; its figures are made up, not measured."""
    figures = [  # users, requests/s, responses/s, failures, p50, p95, p99
        (5, 32.0, 11.0, 0, 20.0, 60.0, 90.0), (10, 64.0, 22.0, 0, 25.0, 90.0, 130.0),
        (20, 120.0, 42.0, 0, 35.0, 150.0, 190.0), (40, 150.0, 48.0, 3, 120.0, 480.0, 900.0),
    ]
    steps = []
    for users, requests_per_s, responses_per_s, failures, p50, p95, p99 in figures:
        steps.append({
            "users": users, "requests": int(requests_per_s * 20), "failures": failures,
            "error_rate": failures / (requests_per_s * 20), "requests_per_s": requests_per_s,
            "responses": int(responses_per_s * 20), "responses_per_s": responses_per_s,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "holds": failures == 0 and p95 <= SLO_P95_MS, "errors": [], "processes": [],
        })
    best = steps[2]
    return {
        "started": "2026-01-01T00:00:00+00:00", "responses_seeded": 10_000, "workers": 2,
        "step_seconds": 20, "slo": {"error_rate": 0, "p95_ms": SLO_P95_MS},
        "database_bytes": 12 * 2**20, "steps": steps, "sustained": best,
        "limit_reached": True,
        "plan": plan_verdict(50_000, 20, best["responses_per_s"]),
    }


def steps_table(document: dict[str, Any]) -> pd.DataFrame:
    """One row per load step: users, throughput, errors, latency percentiles, SLO held."""
    columns = ["users", "requests_per_s", "responses_per_s", "failures", "error_rate",
               "p50_ms", "p95_ms", "p99_ms", "holds"]
    return pd.DataFrame([{column: step[column] for column in columns}
                         for step in document["steps"]], columns=columns)


def throughput_figure(document: dict[str, Any]) -> go.Figure:
    """Requests/s and responses/s per step (users); a step that broke the SLO in red."""
    table = steps_table(document)
    users = [f"{value} users" for value in table["users"]]
    figure = go.Figure([
        go.Bar(name="requests/s", x=users, y=table["requests_per_s"], marker_color="#9fb8ad"),
        go.Bar(name="responses/s", x=users, y=table["responses_per_s"],
               marker_color=["#2b7a4b" if held else "#b3261e" for held in table["holds"]]),
    ])
    figure.update_layout(title="Throughput per step (red: the step broke the SLO)",
                         barmode="group", yaxis_title="per second", height=360,
                         margin={"l": 40, "r": 20, "t": 60, "b": 40})
    return figure


def latency_figure(document: dict[str, Any]) -> go.Figure:
    """p50, p95 and p99 latency per step, with the p95 SLO dashed."""
    table = steps_table(document)
    users = [f"{value} users" for value in table["users"]]
    figure = go.Figure([go.Scatter(name=column.removesuffix("_ms"), x=users, y=table[column],
                                   mode="lines+markers")
                        for column in ("p50_ms", "p95_ms", "p99_ms")])
    slo = document["slo"]["p95_ms"]
    figure.add_hline(y=slo, line_dash="dash", line_color="#b3261e",
                     annotation_text=f"SLO: p95 ≤ {slo:.0f} ms")
    figure.update_layout(title="Latency per step", yaxis_title="ms", height=360,
                         margin={"l": 40, "r": 20, "t": 60, "b": 40})
    return figure


def capacity_verdict(document: dict[str, Any]) -> str:
    """The report's answer in plain words: the highest sustained throughput, whether
    the limit was reached, and the send plan's verdict when the run had one."""
    lines = [" ".join(sustained_sentences(document)).strip()]
    if not document["limit_reached"]:
        lines.append(LIMIT_NOT_REACHED)
    plan = document.get("plan")
    if plan:
        lines.append(" ".join(plan_sentences(plan)))
    else:
        lines.append("No send plan was given (cxlab capacity --plan N --rate R asks one).")
    return "\n".join(lines)
