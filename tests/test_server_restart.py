"""A ``kill -9`` of the server's master: its workers die with it, and a new server
starts on the same port at once (under gunicorn the orphaned workers held the port
for about 10 s, so the restart failed with "Connection in use")."""

from __future__ import annotations

import contextlib
import signal
import time

import psutil
import requests
from cxlab.surveys import EXAMPLES_DIR, load_definition

from survey_server.testing import publish_survey_with_key, start_server

VISIT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")


def workers_of(pid: int, count: int, timeout: float = 60) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while True:
        children = psutil.Process(pid).children()
        if len(children) >= count:
            return children
        assert time.monotonic() < deadline, f"{len(children)} of {count} workers started"
        time.sleep(0.1)


def test_after_kill_9_of_the_master_a_new_server_starts_on_the_same_port(
    environ, database, tmp_path
):
    acme = publish_survey_with_key(database, "acme", VISIT)
    old = start_server(environ, tmp_path / "old.log", workers=2)
    new, workers = None, []
    try:
        old.wait_healthy()
        workers = workers_of(old.process.pid, 2)
        old.process.send_signal(signal.SIGKILL)
        old.process.wait(timeout=30)
        new = start_server(environ, tmp_path / "new.log", port=old.port, workers=2)
        # Orphans die with their master (they get SIGTERM from the kernel)...
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [], f"orphaned workers still running: {alive}"
        # ...so what answers from now on is the new server (both bind with SO_REUSEPORT:
        # a dying orphan could otherwise answer a probe meant for the new one).
        new.wait_healthy()
        # Only the new server answers on the port now.
        new_workers = {process.pid for process in workers_of(new.process.pid, 2)}
        answer = requests.post(
            f"{new.base_url}/api/v1/surveys/{acme.survey_id}/responses", timeout=30,
            json={"answers": {"nps": 9}}, headers={"Authorization": f"Bearer {acme.api_key}"})
        assert answer.status_code == 201
        assert not new_workers & {process.pid for process in workers}
        assert new.stop() == 0
    finally:  # leave no process behind, whatever failed
        for server in (new, old):
            if server is not None and server.process.poll() is None:
                server.stop()
        for worker in workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                worker.kill()
