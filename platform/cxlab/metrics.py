"""Prometheus metrics of the survey server: requests, latency, accepted responses.

Each server object gets its own registry (tests build many). Under granian the
workers are separate processes, so :func:`ServerMetrics` is given the multiprocess
directory and /metrics aggregates every worker's files (prometheus-client's
multiprocess mode, switched on by PROMETHEUS_MULTIPROC_DIR in the workers' environment).

>>> metrics = ServerMetrics()
>>> metrics.observe_request("/healthz", "GET", 200, 0.002)
>>> metrics.response_accepted("acme")
>>> b'cxlab_responses_accepted_total{tenant="acme"} 1.0' in metrics.exposition()[0]
True
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServerMetrics:
    """The survey server's counters and histogram, and their text exposition."""

    def __init__(self, multiprocess_dir: str | Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cxlab_http_requests", "HTTP requests by route template, method and status",
            ["route", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "cxlab_http_request_duration_seconds", "Time to answer a request, by route",
            ["route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.accepted = Counter(
            "cxlab_responses_accepted", "Survey responses stored, by tenant",
            ["tenant"], registry=self.registry,
        )
        self.unaccounted = Counter(
            "cxlab_http_unaccounted", "Requests answered whose log line or metrics failed",
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple] = {}
        self._accepted_children: dict[str, Counter] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # The labelled children are looked up once per label set: labels() validates and
        # locks on every call, which cost more than the increments themselves.
        children = self._request_children.get((route, method, status))
        if children is None:
            children = (self.requests.labels(route, method, str(status)),
                        self.latency.labels(route))
            self._request_children[(route, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def accounting_failed(self) -> None:
        """A request's access-log line or metrics could not be recorded (e.g. disk full)."""
        # The metric files may be on the full disk too.
        with contextlib.suppress(Exception):
            self.unaccounted.inc()

    def response_accepted(self, tenant: str, count: int = 1) -> None:
        if count:
            child = self._accepted_children.get(tenant)
            if child is None:  # once per tenant, as in observe_request
                child = self._accepted_children[tenant] = self.accepted.labels(tenant)
            child.inc(count)

    def exposition(self) -> tuple[bytes, str]:
        """The metrics page and its content type (all workers' values under granian)."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))
        return generate_latest(registry), CONTENT_TYPE_LATEST
