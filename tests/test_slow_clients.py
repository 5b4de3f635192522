"""Slow clients (slow loris) cannot stop the real server: with 200 connections sending
their request a byte at a time, health probes and answers from others are served.

Under gunicorn 8 such connections stopped the server answering anyone (issue #15);
granian reads requests in Rust, so a slow client holds no Python thread.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import requests
from cxlab.surveys import EXAMPLES_DIR, load_definition

from survey_server.testing import publish_survey_with_key, serve_in_process

VISIT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
SLOW_CONNECTIONS = 200
# Generous for a loaded 2-core machine; an answer stuck behind slow clients never comes
# (gunicorn: 0 of 8 probes answered in 40 s). Figures: docs/survey_server.md.
ANSWER_TIMEOUT = 10


class SlowLoris:
    """Connections that send a request one byte per interval, and never finish it."""

    def __init__(self, port: int, count: int, survey_id: int) -> None:
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        for number in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if number % 2:  # half stall in the headers
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:  # half in a body they announced
                sock.sendall(
                    f"POST /api/v1/surveys/{survey_id}/responses HTTP/1.1\r\n"
                    "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: 100000\r\n\r\n{".encode()
                )
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        while not self.stop.wait(1.0):
            for sock in self.sockets:
                # The server may close a client that is too slow: its right.
                with contextlib.suppress(OSError):
                    sock.send(b"x")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def test_slow_clients_do_not_stop_probes_or_answers(environ, database, tmp_path):
    acme = publish_survey_with_key(database, "acme", VISIT)
    with serve_in_process(environ, tmp_path / "server.log", workers=2) as server:
        loris = SlowLoris(server.port, SLOW_CONNECTIONS, acme.survey_id)
        try:
            time.sleep(2)  # let them occupy whatever they can
            url = f"{server.base_url}/api/v1/surveys/{acme.survey_id}/responses"
            headers = {"Authorization": f"Bearer {acme.api_key}"}
            latencies = []
            for number in range(8):
                started = time.monotonic()
                probe = requests.get(f"{server.base_url}/healthz", timeout=ANSWER_TIMEOUT)
                answer = requests.post(url, headers=headers, timeout=ANSWER_TIMEOUT, json={
                    "answers": {"nps": number}, "idempotency_key": f"fast-{number}"})
                latencies.append(time.monotonic() - started)
                assert (probe.status_code, answer.status_code) == (200, 201)
            print(f"probe + answer with {SLOW_CONNECTIONS} slow clients open: "
                  f"max {max(latencies) * 1000:.0f} ms")
        finally:
            loris.close()
