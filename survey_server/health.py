"""What /healthz checks: the database answers and is migrated, the var dir can be
written, and its file system (and a SQLite database's) has room.

Each check runs on every probe and keeps no state, so the answer turns back to 200 by
itself once the database is back or space returns.

>>> import tempfile
>>> from cxlab.config import Config
>>> config = Config.from_environ({"CXLAB_VAR_DIR": tempfile.mkdtemp(), "CXLAB_MIN_FREE_MB": "0"})
>>> Health(config, None).disk_problem() is None
True
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cxlab.config import Config
from cxlab.db import Database

PROBE_NAME = "healthz.probe"
PROBE_BYTES = b"cxlab health probe\n" * 200  # a few KiB: a full disk refuses it


class Health:
    """The checks of one server; :meth:`problem` is None when all is well."""

    def __init__(self, config: Config, database: Database | None) -> None:
        self.config = config
        self.database = database
        self.min_free_bytes = config.min_free_mb * 2**20
        self.paths = [config.var_dir]
        if database is not None and database.engine.dialect.name == "sqlite":
            name = database.engine.url.database
            if name and name != ":memory:":
                self.paths.append(Path(name).resolve().parent)

    def problem(self) -> str | None:
        """The first failing check's reason, or None."""
        return self.database_problem() or self.disk_problem()

    def database_problem(self) -> str | None:
        try:
            migrated = self.database.is_migrated()
        except Exception as error:  # any failure is itself the answer
            return f"database unreachable: {type(error).__name__}"
        if not migrated:
            return "database not migrated: run cxlab init"
        return None

    def disk_problem(self) -> str | None:
        probe = self.config.var_dir / PROBE_NAME
        try:
            # Written and synced in place (not replaced): what the access log and
            # SQLite do, so a full disk fails here first.
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            return f"cannot write to {self.config.var_dir}: {error.strerror}"
        for path in self.paths:
            try:
                free = shutil.disk_usage(path).free
            except OSError as error:
                return f"cannot measure free space in {path}: {error.strerror}"
            if free < self.min_free_bytes:
                return (f"only {free // 2**20} MiB free in {path} "
                        f"(CXLAB_MIN_FREE_MB={self.config.min_free_mb})")
        return None
