"""Stepped load against a fresh local stack, up to the first step that breaks the SLO.

Each step runs more users with short think times; a step *holds* when no request
failed and the p95 latency stayed within :data:`SLO_P95_MS`. The report gives the
highest sustained responses/s of a step that held, its latencies, the CPU and memory
of every process (server master and workers, load generator) and the database size,
and answers a send plan: N invitations at R % response in the first hour.

>>> plan = plan_verdict(invitations=15_000, response_rate=30, capacity_per_s=40.0)
>>> round(plan["required_peak_per_s"], 2), plan["holds"]
(5.0, True)
>>> plan_verdict(invitations=1_000_000, response_rate=50, capacity_per_s=40.0)["holds"]
False
"""

from __future__ import annotations

import contextlib
import html
import json
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxlab.config import Config
from cxlab.loadtest.runner import DEFAULT_DEFINITION, LoadReport, run_loadtest
from cxlab.loadtest.stack import database_size, local_stack

SLO_P95_MS = 200.0
DEFAULT_STEPS = (5, 10, 20, 40, 80)
# Capacity measures the response path: respondents and kiosks. Portal logins hash a
# password (argon2, deliberately slow) and would measure the hash, not the server.
CAPACITY_WEIGHTS = {"respondent": 3, "kiosk": 1, "portal": 0}
CAPACITY_THINK_SCALE = 0.05
# Invitations are not answered evenly over the first hour: most answers come in the
# minutes after the send. Plan for a peak this many times the hour's average...
PEAK_FACTOR = 4.0
# ...and keep this much capacity in reserve above that peak.
HEADROOM = 1.5


def plan_verdict(invitations: int, response_rate: float, capacity_per_s: float) -> dict[str, Any]:
    """Will ``invitations`` at ``response_rate`` % (answered in the first hour) hold?

    required average = N × R/100 / 3600 responses/s; required peak = average ×
    PEAK_FACTOR; it holds when the measured capacity ≥ peak × HEADROOM.
    """
    average = invitations * response_rate / 100 / 3600
    peak = average * PEAK_FACTOR
    return {
        "invitations": invitations, "response_rate_percent": response_rate,
        "required_average_per_s": average, "required_peak_per_s": peak,
        "capacity_per_s": capacity_per_s, "peak_factor": PEAK_FACTOR, "headroom": HEADROOM,
        "headroom_ratio": capacity_per_s / peak if peak else None,
        "holds": capacity_per_s >= peak * HEADROOM,
    }


def capacity(
    config: Config,
    *,
    responses: int = 10_000,
    steps: Sequence[int] = DEFAULT_STEPS,
    step_seconds: float = 20,
    plan: int | None = None,
    rate: float | None = None,
    workers: int = 2,
    output_dir: Path | None = None,
) -> dict[str, Any]:
    """Measure the capacity of a fresh stack seeded with ``responses`` responses and
    write ``capacity.json``, ``capacity.md`` and ``capacity.html`` under
    ``output_dir`` (default ``var/reports/ops/``); return the report as a dict.

    ``steps`` are the users of each step (each starts at once and runs
    ``step_seconds``); the run stops at the first step that breaks the SLO.
    """
    output_dir = output_dir or config.var_dir / "reports" / "ops"
    started = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    with local_stack(config.var_dir / "capacity" / "stack", responses=responses,
                     workers=workers) as stack:
        for users in steps:
            sampler = _ProcessSampler(stack.pid)
            sampler.start()
            report = run_loadtest(
                stack.url, users, users, step_seconds, workload=stack.workload,
                weights=CAPACITY_WEIGHTS, think_scale=CAPACITY_THINK_SCALE,
                definition_path=DEFAULT_DEFINITION,
            )
            processes = sampler.stop()
            rows.append(_step_row(report, processes))
            if not rows[-1]["holds"]:
                break
        size = database_size(stack.database_path)
    held = [row for row in rows if row["holds"]]
    best = max(held, key=lambda row: row["responses_per_s"]) if held else None
    document = {
        "started": started.isoformat(), "responses_seeded": responses, "workers": workers,
        "step_seconds": step_seconds, "slo": {"error_rate": 0, "p95_ms": SLO_P95_MS},
        "database_bytes": size, "steps": rows, "sustained": best,
        # When every step held, the server was not pushed to its limit: the real
        # capacity is higher than "sustained", and a plan verdict is pessimistic.
        "limit_reached": len(held) < len(rows),
        "plan": (plan_verdict(plan, rate, best["responses_per_s"] if best else 0.0)
                 if plan is not None and rate is not None else None),
    }
    write_report(document, output_dir)
    return document


def _step_row(report: LoadReport, processes: list[dict[str, Any]]) -> dict[str, Any]:
    holds = report.failures == 0 and report.p95_ms is not None and report.p95_ms <= SLO_P95_MS
    return {
        "users": report.users, "requests": report.requests, "failures": report.failures,
        "error_rate": report.error_rate, "requests_per_s": report.requests_per_s,
        "responses": report.responses, "responses_per_s": report.responses_per_s,
        "p50_ms": report.p50_ms, "p95_ms": report.p95_ms, "p99_ms": report.p99_ms,
        "holds": holds, "errors": report.errors[:10], "processes": processes,
    }


class _ProcessSampler:
    """CPU (% of one core, averaged over the step) and peak memory of the server's
    processes and of the load generator, sampled in a thread during a step."""

    INTERVAL = 0.5

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self._stop = threading.Event()
        self._peaks: dict[int, dict[str, Any]] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._started = time.monotonic()
        self._first = _process_tree(self.server_pid)
        self._thread.start()

    def stop(self) -> list[dict[str, Any]]:
        self._stop.set()
        self._thread.join()
        elapsed = time.monotonic() - self._started
        rows = []
        for pid, peak in sorted(self._peaks.items()):
            cpu_before = self._first.get(pid, {}).get("cpu_s", 0.0)
            rows.append({
                "pid": pid, "name": peak["name"], "role": peak["role"],
                "cpu_percent": 100 * (peak["cpu_s"] - cpu_before) / elapsed if elapsed else 0,
                "rss_mb": peak["rss_mb"],
            })
        return rows

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            for pid, sample in _process_tree(self.server_pid).items():
                seen = self._peaks.setdefault(pid, dict(sample))
                seen["cpu_s"] = sample["cpu_s"]
                seen["rss_mb"] = max(seen["rss_mb"], sample["rss_mb"])


def _process_tree(server_pid: int) -> dict[int, dict[str, Any]]:
    """The server master and its workers, plus the load generator (our own child)."""
    import os

    import psutil  # present with Jupyter; the CPU of another process needs it or /proc

    found = {}
    roles = [(server_pid, "server")]
    with contextlib.suppress(psutil.Error):
        roles += [(child.pid, "load generator") for child in psutil.Process(os.getpid()).children()
                  if "cxlab.loadtest._worker" in " ".join(child.cmdline())]
    for pid, role in roles:
        try:
            process = psutil.Process(pid)
            members = [(process, role)]
            if role == "server":
                members += [(child, "server worker") for child in process.children()]
            for member, member_role in members:
                with member.oneshot():
                    times = member.cpu_times()
                    found[member.pid] = {
                        "name": member.name(), "role": member_role,
                        "cpu_s": times.user + times.system,
                        "rss_mb": member.memory_info().rss / 2**20,
                    }
        except psutil.Error:
            continue
    return found


# ---------------------------------------------------------------- report files


def write_report(document: dict[str, Any], output_dir: Path) -> list[Path]:
    """capacity.json (the figures), capacity.md (for a ticket), capacity.html (charts)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = [output_dir / "capacity.json", output_dir / "capacity.md",
             output_dir / "capacity.html"]
    paths[0].write_text(json.dumps(document, indent=2))
    markdown = render_markdown(document)
    paths[1].write_text(markdown)
    paths[2].write_text(_html_page(document, markdown))
    return paths


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


LIMIT_NOT_REACHED = ("Every step held: the limit was not reached, so the capacity is at least "
                     "this (add larger steps to find it).")


def sustained_sentences(document: dict[str, Any]) -> tuple[str, str]:
    """The highest sustained throughput in words: (headline, its latencies)."""
    best = document["sustained"]
    if not best:
        return "No step held the SLO.", ""
    return (f"Highest sustained: {best['responses_per_s']:.1f} responses/s",
            f"({best['users']} users, {best['requests_per_s']:.1f} requests/s, no errors; "
            f"p50 {_ms(best['p50_ms'])} ms, p95 {_ms(best['p95_ms'])} ms, "
            f"p99 {_ms(best['p99_ms'])} ms).")


def plan_sentences(plan: dict[str, Any]) -> tuple[str, str]:
    """A :func:`plan_verdict` in words: (the answer, the figures behind it)."""
    verdict = "yes, it will hold" if plan["holds"] else "no, it will not hold"
    return (f"{plan['invitations']:,} invitations at {plan['response_rate_percent']:g}% in "
            f"the first hour — {verdict}.",
            f"Required: {plan['required_average_per_s']:.2f}/s on average, "
            f"{plan['required_peak_per_s']:.2f}/s at the peak (×{plan['peak_factor']:g}); "
            f"measured capacity {plan['capacity_per_s']:.1f}/s; needed with headroom: "
            f"{plan['required_peak_per_s'] * plan['headroom']:.2f}/s.")


def render_markdown(document: dict[str, Any]) -> str:
    """The report as markdown: verdict first, then one row per step and the processes."""
    lines = ["# Capacity report", "",
             f"Started {document['started']}; {document['responses_seeded']:,} responses seeded; "
             f"{document['workers']} server workers; steps of {document['step_seconds']} s; "
             f"SLO: no errors and p95 ≤ {document['slo']['p95_ms']:.0f} ms.", ""]
    headline, detail = sustained_sentences(document)
    lines.append(f"**{headline}** {detail}".rstrip())
    if not document["limit_reached"]:
        lines += ["", LIMIT_NOT_REACHED]
    lines += ["", f"Database size: {document['database_bytes'] / 2**20:.1f} MiB.", ""]
    plan = document.get("plan")
    if plan:
        headline, detail = plan_sentences(plan)
        lines += [f"**{headline}** {detail}", ""]
    lines += ["| users | requests/s | responses/s | errors | p50 ms | p95 ms | p99 ms | holds |",
              "|---:|---:|---:|---:|---:|---:|---:|:---|"]
    for row in document["steps"]:
        lines.append(
            f"| {row['users']} | {row['requests_per_s']:.1f} | {row['responses_per_s']:.1f} | "
            f"{row['failures']} | {_ms(row['p50_ms'])} | {_ms(row['p95_ms'])} | "
            f"{_ms(row['p99_ms'])} | {'yes' if row['holds'] else 'NO'} |"
        )
    lines += ["", "## Processes (per step)", "", "| users | role | pid | CPU % | RSS MiB |",
              "|---:|:---|---:|---:|---:|"]
    for row in document["steps"]:
        for process in row["processes"]:
            lines.append(f"| {row['users']} | {process['role']} | {process['pid']} | "
                         f"{process['cpu_percent']:.0f} | {process['rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def _bars(document: dict[str, Any], key: str, title: str, limit: float | None) -> str:
    """A small inline SVG bar chart of ``key`` per step (no JavaScript, no network)."""
    steps = document["steps"]
    values = [row[key] or 0 for row in steps]
    top = max([*values, limit or 0, 1])
    width, height, bar = 60 * max(len(steps), 1) + 40, 160, 40
    parts = [f'<svg width="{width}" height="{height + 40}" role="img" '
             f'aria-label="{html.escape(title)}">']
    for index, (row, value) in enumerate(zip(steps, values, strict=True)):
        h = height * value / top
        x = 30 + index * 60
        colour = "#2b7a4b" if row["holds"] else "#b3261e"
        parts.append(f'<rect x="{x}" y="{height - h}" width="{bar}" height="{h}" fill="{colour}"/>'
                     f'<text x="{x}" y="{height + 15}" font-size="11">{row["users"]} u</text>'
                     f'<text x="{x}" y="{height - h - 3}" font-size="11">{value:.0f}</text>')
    if limit:
        y = height - height * limit / top
        parts.append(f'<line x1="20" x2="{width}" y1="{y}" y2="{y}" stroke="#b3261e" '
                     'stroke-dasharray="4"/>')
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def _html_page(document: dict[str, Any], markdown: str) -> str:
    charts = (_bars(document, "responses_per_s", "Responses/s per step", None)
              + _bars(document, "p95_ms", "p95 latency (ms) per step; dashed: SLO", SLO_P95_MS))
    return ("<!doctype html><meta charset='utf-8'><title>Capacity report</title>"
            "<body style='font-family:sans-serif;max-width:60em;margin:auto'>"
            f"{charts}<h2>Figures</h2><pre>{html.escape(markdown)}</pre></body>")
