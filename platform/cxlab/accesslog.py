"""The access log: one JSON line per request, to a daily file and to stdout.

Only request metadata goes in (route template, never the raw path with its tokens;
never answers, query strings or headers), so the log is safe to ship anywhere.

>>> import io, tempfile
>>> log = AccessLog(tempfile.mkdtemp(), stream=io.StringIO())
>>> log.write({"time": "2026-05-01T09:00:00.000Z", "route": "/healthz", "status": 200})
>>> sorted(p.name for p in log.directory.iterdir())
['access-2026-05-01.jsonl']
"""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

FIELDS = (
    "time", "request_id", "tenant", "survey", "route", "method", "status", "duration_ms",
    "bytes",
)


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-05-01T09:00:00.123Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AccessLog:
    """Appends records to ``<directory>/access-YYYY-MM-DD.jsonl`` (UTC date) and to
    ``stream`` (stdout by default; None for the file only)."""

    def __init__(self, directory: str | Path, stream: TextIO | None = sys.stdout) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.stream = stream
        self._lock = threading.Lock()
        self._date: str | None = None
        self._fd: int | None = None

    def write(self, record: dict[str, Any]) -> None:
        """Write one record (its ``time`` field picks the day's file)."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode()
        with self._lock:
            date = str(record.get("time", utc_timestamp()))[:10]
            if date != self._date:
                self._reopen(date)
            # One write() on an O_APPEND descriptor: lines from several server workers
            # appending to the same file never interleave.
            os.write(self._fd, data)
            if self.stream is not None:
                self.stream.write(line)
                self.stream.flush()

    def _reopen(self, date: str) -> None:
        if self._fd is not None:
            os.close(self._fd)
        path = self.directory / f"access-{date}.jsonl"
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._date = date

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd, self._date = None, None
