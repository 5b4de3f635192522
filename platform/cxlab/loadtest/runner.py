"""Run a bounded, headless locust load against a target and report the figures.

The load generator runs in a child process (locust patches its process with gevent),
so :func:`run_loadtest` is safe to call from tests, notebooks and the CLI. Only
loopback targets are accepted unless ``allow_remote`` is given: a load test pointed at
a production host by a typo is an outage.

>>> is_loopback("http://127.0.0.1:8080"), is_loopback("http://localhost"), is_loopback("http://[::1]:80")
(True, True, True)
>>> is_loopback("https://surveys.example.com"), is_loopback("http://10.0.0.5:8080")
(False, False)
>>> run_loadtest("https://surveys.example.com", 1, 1, 1, workload=None)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cxlab.errors.CxlabError: refusing to load https://surveys.example.com: not a loopback address; ...
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cxlab.db import Database
from cxlab.errors import CxlabError, NotFound
from cxlab.invitations import create_invitation
from cxlab.loadtest.scenarios import RESPONSE_REQUESTS, Workload, answer_pool
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey
from cxlab.tenancy import create_api_key, create_tenant, create_user, get_tenant

DEFAULT_DEFINITION = EXAMPLES_DIR / "restaurant_visit.yaml"
DEFAULT_WEIGHTS = {"respondent": 4, "invitee": 2, "kiosk": 3, "portal": 1}
LOADTEST_TENANT = "loadtest"
PORTAL_PASSWORD = "load-test-password-1"  # a throwaway user in a load-test tenant only
ANSWER_POOL_SIZE = 500
# Personal links created per run; each is answered once, so an invitee stops when the
# supply runs out (far more than a bounded run at a person's pace answers).
INVITATIONS = 1000
# Seconds the child may take beyond the run itself (start-up, stopping users, writing).
CHILD_GRACE_SECONDS = 60


@dataclass(frozen=True)
class LoadReport:
    """What a load run measured: totals over the run and one row per request name.

    Latencies are locust's percentiles in milliseconds (rounded by locust to two
    significant digits above 100 ms). ``responses`` counts complete responses stored
    (last form page submitted, or API response created).
    """

    url: str
    users: int
    spawn_rate: float
    duration_s: float
    elapsed_s: float
    requests: int
    failures: int
    responses: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    by_request: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def responses_per_s(self) -> float:
        return self.responses / self.elapsed_s if self.elapsed_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error_rate": self.error_rate,
                "requests_per_s": self.requests_per_s, "responses_per_s": self.responses_per_s}

    def summary(self) -> str:
        """One line for a terminal."""
        return (
            f"{self.requests} requests ({self.requests_per_s:.1f}/s), {self.failures} failed, "
            f"{self.responses} responses ({self.responses_per_s:.1f}/s), "
            f"p50 {self.p50_ms} ms, p95 {self.p95_ms} ms, p99 {self.p99_ms} ms"
        )


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (no DNS lookup: a name could point anywhere)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare_workload(
    database: Database,
    *,
    definition_path: Path = DEFAULT_DEFINITION,
    tenant_slug: str = LOADTEST_TENANT,
    answers: int = ANSWER_POOL_SIZE,
    invitations: int = INVITATIONS,
    seed: int = 0,
) -> Workload:
    """A tenant with ``definition`` published, an API key, a portal user and
    ``invitations`` personal links, in ``database`` (the one the target serves), plus a
    pool of realistic answers."""
    definition = load_definition(definition_path)
    pool = answer_pool(definition, answers, seed=seed)
    with database.session() as session:
        try:
            tenant = get_tenant(session, tenant_slug)
        except NotFound:
            tenant = create_tenant(session, tenant_slug, "Load test")
        survey = publish_survey(session, tenant, definition, status="open")
        _key, api_key = create_api_key(session, tenant, "load test")
        email = f"loadtest-{survey.id}@{tenant_slug}.example"
        create_user(session, tenant, email, PORTAL_PASSWORD)
        tokens = [create_invitation(session, tenant, survey,
                                    pool[index % len(pool)]["attributes"]).token
                  for index in range(invitations)]
        survey_slug, survey_id = survey.slug, survey.id
    return Workload(
        tenant_slug=tenant_slug, survey_slug=survey_slug, survey_id=survey_id,
        api_key=api_key, portal_email=email, portal_password=PORTAL_PASSWORD,
        answers=pool, invitation_tokens=tokens,
    )


def run_loadtest(
    url: str,
    users: int,
    spawn_rate: float,
    duration: float,
    *,
    workload: Workload | None,
    allow_remote: bool = False,
    weights: dict[str, int] | None = None,
    think_scale: float = 1.0,
    definition_path: Path = DEFAULT_DEFINITION,
) -> LoadReport:
    """Run ``users`` simulated users (started ``spawn_rate`` per second) against ``url``
    for ``duration`` seconds, headless, and return the figures.

    ``weights`` mixes the scenarios (``respondent``, ``invitee``, ``kiosk``,
    ``portal``; default 4:2:3:1). ``think_scale`` multiplies the think times (1 is a
    person's pace; a capacity run uses less so that few users make much load).
    """
    if not allow_remote and not is_loopback(url):
        raise CxlabError(
            f"refusing to load {url}: not a loopback address; pass --allow-remote if you mean it"
        )
    if workload is None:
        raise CxlabError("run_loadtest needs a workload (see prepare_workload)")
    if users < 1 or spawn_rate <= 0 or duration <= 0:
        raise CxlabError("users must be 1 or more; spawn rate and duration above 0")
    spec = {
        "url": url.rstrip("/"), "users": users, "spawn_rate": spawn_rate,
        "duration": duration, "weights": weights or DEFAULT_WEIGHTS,
        "think_scale": think_scale, "definition_path": str(definition_path),
        "workload": workload.to_dict(),
    }
    with tempfile.TemporaryDirectory(prefix="cxlab-loadtest-") as folder:
        spec_path, output_path = Path(folder) / "spec.json", Path(folder) / "stats.json"
        spec_path.write_text(json.dumps(spec))
        child = subprocess.run(
            [sys.executable, "-m", "cxlab.loadtest._worker", str(spec_path), str(output_path)],
            capture_output=True, text=True, timeout=duration + CHILD_GRACE_SECONDS, check=False,
        )
        if child.returncode != 0 or not output_path.exists():
            tail = " / ".join(child.stderr.strip().splitlines()[-5:])
            raise CxlabError(f"the load generator failed (exit {child.returncode}): {tail}")
        stats = json.loads(output_path.read_text())
    responses = sum(
        row["requests"] - row["failures"] for row in stats["by_request"]
        if row["name"] in RESPONSE_REQUESTS
    )
    return LoadReport(
        url=url, users=users, spawn_rate=spawn_rate, duration_s=duration,
        elapsed_s=stats["elapsed_s"], requests=stats["requests"], failures=stats["failures"],
        responses=responses, p50_ms=stats["p50_ms"], p95_ms=stats["p95_ms"],
        p99_ms=stats["p99_ms"], by_request=stats["by_request"], errors=stats["errors"],
    )
