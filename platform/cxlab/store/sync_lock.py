"""One sync at a time per store, across processes and machines, when the database is
PostgreSQL: a sync holds a session-level advisory lock keyed by the store's URL, and
a second sync of the same store (the scheduler's, an erasure helper's, a hand-run
``cxlab sync``) waits for it. Two syncs at once would otherwise each append the same
responses, and on object storage each would take the other's uncommitted part files
for a crashed sync's leftovers.

On SQLite (one machine, a demo or a test) there is no lock: run one sync at a time.

>>> lock_key("s3://bucket/cxlab") == lock_key("s3://bucket/cxlab")
True
>>> -2**63 <= lock_key("var/store") < 2**63
True
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

log = logging.getLogger(__name__)


def lock_key(store_url: str) -> int:
    """The advisory lock key of a store: 64 bits of a digest of its URL (spell the URL
    the same way everywhere: ``s3://b/x`` and ``s3://b/x/`` are two keys)."""
    digest = hashlib.sha256(f"cxlab-store-sync:{store_url}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def exclusive_sync(connection: Connection, store_url: str) -> Iterator[None]:
    """Hold the store's sync lock on ``connection`` (PostgreSQL) for the block,
    waiting for another sync of the same store to finish first."""
    if connection.dialect.name != "postgresql":
        yield
        return
    key = {"key": lock_key(store_url)}
    if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
        log.info("sync of %s: waiting for another sync of this store to finish", store_url)
        connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
    try:
        yield
    finally:
        # A session-level lock outlives transactions; release it before the pooled
        # connection is reused (after a failed statement, roll back first).
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        connection.commit()
