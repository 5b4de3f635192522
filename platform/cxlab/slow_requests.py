"""Per-tenant latency watch over the survey server's access logs.

The access log (:mod:`cxlab.accesslog`) holds one JSON line per request in
``var/logs/access-YYYY-MM-DD.jsonl``; for large volumes the same records may be kept
as ``access-YYYY-MM-DD.parquet`` (same columns), which is read instead. From one day
this module computes per tenant and route the request count, error rate and
p50/p95/p99 latency, and lists the tenants that are slow: p95 above a fixed threshold,
or far above their own usual p95 (the median of their daily p95 over previous days).
The list goes to a Slack-compatible webhook; nothing is posted when no tenant is slow
unless asked.

>>> import tempfile
>>> from datetime import date
>>> logs = Path(tempfile.mkdtemp())
>>> _ = write_synthetic_log(logs, date(2026, 11, 20), slow_tenant="ramen-co", seed=1)
>>> frame = load_access_log(logs, date(2026, 11, 20))
>>> sorted(frame["tenant"].unique())
['cafe-co', 'ramen-co', 'sushi-co']
>>> slow = slow_tenants(frame, threshold_ms=200)
>>> list(slow["tenant"]), list(slow["reason"])
(['ramen-co'], ['p95 above 200 ms'])
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.accesslog import FIELDS
from cxlab.notify import send_webhook

DEFAULT_THRESHOLD_MS = 200.0
# "Far above usual": p95 this many times the tenant's median daily p95 of past days.
USUAL_FACTOR = 2.0
HISTORY_DAYS = 7
# Fewer requests than this make a p95 noise, not a signal.
MIN_REQUESTS = 20
NO_TENANT = "(none)"  # health checks, metrics and unknown URLs carry no tenant


def log_path(log_dir: Path, day: date, suffix: str = "jsonl") -> Path:
    return Path(log_dir) / f"access-{day.isoformat()}.{suffix}"


def load_access_log(log_dir: Path, day: date) -> pd.DataFrame:
    """One day's requests (Parquet when present, else JSON lines); empty if none.

    Columns are :data:`cxlab.accesslog.FIELDS`; ``tenant`` is ``"(none)"`` for
    requests without one. A torn last line (a server killed mid-write) is skipped.
    """
    parquet, jsonl = log_path(log_dir, day, "parquet"), log_path(log_dir, day)
    if parquet.exists():
        frame = pd.read_parquet(parquet)
    elif jsonl.exists():
        records = []
        with jsonl.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        frame = pd.DataFrame.from_records(records)
    else:
        frame = pd.DataFrame()
    frame = frame.reindex(columns=list(FIELDS))
    frame["tenant"] = frame["tenant"].fillna(NO_TENANT).astype(str)
    frame["route"] = frame["route"].fillna("").astype(str)
    frame["status"] = pd.to_numeric(frame["status"], errors="coerce").fillna(0).astype(int)
    frame["duration_ms"] = pd.to_numeric(frame["duration_ms"], errors="coerce").astype(float)
    return frame


def latency_table(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Requests, server errors (5xx), client errors (4xx), error rate (5xx share) and
    p50/p95/p99 latency in ms, per group of ``by`` (e.g. ``["tenant", "route"]``)."""
    columns = [*by, "requests", "errors_5xx", "errors_4xx", "error_rate", "p50_ms",
               "p95_ms", "p99_ms"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(by, sort=True)
    table = grouped.agg(
        requests=("status", "size"),
        errors_5xx=("status", lambda s: int((s >= 500).sum())),
        errors_4xx=("status", lambda s: int(s.between(400, 499).sum())),
        p50_ms=("duration_ms", lambda d: d.quantile(0.50)),
        p95_ms=("duration_ms", lambda d: d.quantile(0.95)),
        p99_ms=("duration_ms", lambda d: d.quantile(0.99)),
    ).reset_index()
    table["error_rate"] = table["errors_5xx"] / table["requests"]
    return table[columns]


def usual_p95(log_dir: Path, day: date, days: int = HISTORY_DAYS) -> pd.Series:
    """Each tenant's usual p95: the median of its daily p95 over the ``days`` before ``day``."""
    daily = []
    for back in range(1, days + 1):
        frame = load_access_log(log_dir, day - timedelta(days=back))
        if not frame.empty:
            daily.append(latency_table(frame, ["tenant"]).set_index("tenant")["p95_ms"])
    if not daily:
        return pd.Series(dtype=float, name="usual_p95_ms")
    return pd.concat(daily, axis=1).median(axis=1).rename("usual_p95_ms")


def slow_tenants(
    frame: pd.DataFrame,
    *,
    threshold_ms: float = DEFAULT_THRESHOLD_MS,
    usual: pd.Series | None = None,
    usual_factor: float = USUAL_FACTOR,
    min_requests: int = MIN_REQUESTS,
) -> pd.DataFrame:
    """Tenants (with at least ``min_requests``) whose p95 is above ``threshold_ms`` or
    above ``usual_factor`` × their ``usual`` p95, slowest first, with the reason."""
    table = latency_table(frame, ["tenant"])
    table = table[(table["tenant"] != NO_TENANT) & (table["requests"] >= min_requests)]
    usual = usual if usual is not None else pd.Series(dtype=float)
    table = table.assign(usual_p95_ms=table["tenant"].map(usual).astype(float))
    reasons = []
    for row in table.itertuples():
        parts = []
        if row.p95_ms > threshold_ms:
            parts.append(f"p95 above {threshold_ms:g} ms")
        if not np.isnan(row.usual_p95_ms) and row.p95_ms > usual_factor * row.usual_p95_ms:
            parts.append(f"p95 {row.p95_ms / row.usual_p95_ms:.1f}× its usual")
        reasons.append("; ".join(parts))
    table = table.assign(reason=reasons)
    slow = table[table["reason"] != ""].sort_values("p95_ms", ascending=False)
    return slow.reset_index(drop=True)


def slow_message(day: date, slow: pd.DataFrame, threshold_ms: float) -> str:
    """The chat message: one line per slow tenant, or an all-clear."""
    if slow.empty:
        return f"Survey server latency {day}: no tenant slow (p95 threshold {threshold_ms:g} ms)."
    lines = [f"Survey server latency {day}: {len(slow)} slow tenant(s) "
             f"(p95 threshold {threshold_ms:g} ms)"]
    for row in slow.itertuples():
        usual = "" if np.isnan(row.usual_p95_ms) else f", usual {row.usual_p95_ms:.0f} ms"
        lines.append(f"• {row.tenant}: p95 {row.p95_ms:.0f} ms{usual}, {row.requests} requests, "
                     f"error rate {row.error_rate:.1%} — {row.reason}")
    return "\n".join(lines)


@dataclass(frozen=True)
class LatencyWatch:
    """One day's watch: the figures, the slow tenants and whether a message went out."""

    day: date
    requests: int
    by_route: pd.DataFrame
    slow: pd.DataFrame
    message: str
    posted: bool


def watch_slow_requests(
    log_dir: Path,
    day: date,
    *,
    threshold_ms: float = DEFAULT_THRESHOLD_MS,
    webhook_url: str | None = None,
    post_always: bool = False,
    history_days: int = HISTORY_DAYS,
) -> LatencyWatch:
    """Analyse ``day`` and post the slow tenants to ``webhook_url`` (when some are slow,
    or always with ``post_always``)."""
    frame = load_access_log(log_dir, day)
    slow = slow_tenants(frame, threshold_ms=threshold_ms,
                        usual=usual_p95(log_dir, day, history_days))
    message = slow_message(day, slow, threshold_ms)
    posted = False
    if webhook_url and (post_always or not slow.empty):
        posted = send_webhook(webhook_url, message)
    return LatencyWatch(day, len(frame), latency_table(frame, ["tenant", "route"]), slow,
                        message, posted)


def write_synthetic_log(
    log_dir: Path,
    day: date,
    *,
    slow_tenant: str | None = None,
    tenants: tuple[str, ...] = ("cafe-co", "ramen-co", "sushi-co"),
    requests_per_tenant: int = 300,
    seed: int = 0,
) -> Path:
    """A plausible day of access log (log-normal latencies around 20 ms, a few 4xx and
    5xx) in which ``slow_tenant`` answers about 15 times slower; for demos and tests."""
    rng = np.random.default_rng(seed)
    routes = [("/s/<tenant_slug>/<survey_slug>", "GET"), ("/s/<tenant_slug>/<survey_slug>", "POST"),
              ("/api/v1/surveys/<survey_id>/responses", "POST")]
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    path = log_path(log_dir, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for tenant in tenants:
            scale = 15.0 if tenant == slow_tenant else 1.0
            for index in range(requests_per_tenant):
                route, method = routes[index % len(routes)]
                moment = start + timedelta(seconds=float(rng.uniform(0, 86_399)))
                status = int(rng.choice([200, 303, 422, 500], p=[0.8, 0.15, 0.045, 0.005]))
                out.write(json.dumps({
                    "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    "request_id": f"{tenant}-{index}", "tenant": tenant, "survey": "store-visit",
                    "route": route, "method": method, "status": status,
                    "duration_ms": round(float(rng.lognormal(np.log(20 * scale), 0.4)), 2),
                    "bytes": int(rng.integers(300, 9000)),
                }) + "\n")
    return path
