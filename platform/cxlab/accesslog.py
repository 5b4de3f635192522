"""The access log: one JSON line per request, to a daily file and to stdout.

A line that cannot be written (a full disk) is dropped, never the response it
describes: :meth:`AccessLog.write` does not raise; the failure is counted in
``failures``, told once on stderr, and the file is reopened on the next line, so the
log resumes by itself when space returns.

Only request metadata goes in (route template, never the raw path with its tokens;
never answers, query strings or headers), so the log is safe to ship anywhere.

>>> import io, tempfile
>>> log = AccessLog(tempfile.mkdtemp(), stream=io.StringIO())
>>> log.write({"time": "2026-05-01T09:00:00.000Z", "route": "/healthz", "status": 200})
True
>>> sorted(p.name for p in log.directory.iterdir())
['access-2026-05-01.jsonl']
"""

from __future__ import annotations

import contextlib
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
    """ISO 8601 UTC with milliseconds, e.g. ``2026-05-01T09:00:00.123Z``.

    >>> from datetime import timedelta, timezone
    >>> utc_timestamp(datetime(2026, 5, 1, 18, 0, tzinfo=timezone(timedelta(hours=9))))
    '2026-05-01T09:00:00.000Z'
    """
    moment = moment or datetime.now(UTC)
    # isoformat, not strftime: this runs for every request and costs a third as much.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


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
        self.failures = 0  # lines that could not be written, since this object was made
        self.last_error: OSError | None = None  # None once a line was written again

    def write(self, record: dict[str, Any]) -> bool:
        """Write one record (its ``time`` field picks the day's file); never raises.

        False when the line could not be written to the file."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode("utf-8", "backslashreplace")
        with self._lock:
            try:
                date = str(record.get("time") or utc_timestamp())[:10]
                if date != self._date:
                    self._reopen(date)
                # One write() on an O_APPEND descriptor: lines from several server
                # workers appending to the same file never interleave.
                os.write(self._fd, data)
                self.last_error = None
                written = True
            except OSError as error:
                self._failed(error)
                written = False
            if self.stream is not None:
                try:
                    self.stream.write(line)
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # a closed or full stdout must not fail the request either
        return written

    def _failed(self, error: OSError) -> None:
        self.failures += 1
        if self.last_error is None:  # once per outage, not once per request
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(f"cxlab: access log not written: {error}\n")
        self.last_error = error
        # Reopen on the next line: a full disk may have space again, a removed file
        # is created afresh.
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd, self._date = None, None

    def _reopen(self, date: str) -> None:
        if self._fd is not None:
            fd, self._fd, self._date = self._fd, None, None
            os.close(fd)
        path = self.directory / f"access-{date}.jsonl"
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._date = date

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd, self._date = None, None
