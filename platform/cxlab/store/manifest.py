"""The manifest of a partition on object storage: the one object that says which part
files are live.

S3 and its kin have no atomic rename (a "move" is a copy and a delete), but a single
PUT is atomic: an object appears whole or not at all. So on such a store part files are
never renamed and never overwritten. Sync writes each one under a name of its own
(``part-{first}-{last}-{token}.parquet``) and then *commits* by rewriting the small
``_manifest.json`` beside them, which lists the live files. Readers read the manifest
first and open only what it lists; a part file it does not list (written by a sync
that died before its commit, or replaced by a later one and not yet deleted) is never
read, and the next sync deletes it. See docs/store.md, *On object storage*.

>>> body = manifest_body([("part-000000000001-000000000100-1a2b.parquet", 1, 100)])
>>> parse_manifest(body)
[('part-000000000001-000000000100-1a2b.parquet', 1, 100)]
>>> parse_manifest(b'{"format": 9}')
Traceback (most recent call last):
ValueError: format 9, expected 1
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

MANIFEST_FILE = "_manifest.json"
MANIFEST_FORMAT = 1

Entry = tuple[str, int, int]  # part file name, first id, last id


def manifest_body(entries: list[Entry]) -> bytes:
    """The manifest listing part files by name (relative to their partition) and id
    range, sorted by range."""
    listed = [{"name": name, "first_id": first_id, "last_id": last_id}
              for name, first_id, last_id in sorted(entries, key=lambda entry: entry[1])]
    return json.dumps({
        "format": MANIFEST_FORMAT,
        "committed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "parts": listed,
    }, sort_keys=True).encode()


def parse_manifest(body: bytes) -> list[Entry]:
    """The entries a manifest lists, sorted by range; ValueError when it is not a
    manifest this code wrote (another format is an error, never a guess)."""
    try:
        saved = json.loads(body)
        if not isinstance(saved, dict) or saved.get("format") != MANIFEST_FORMAT:
            found = saved.get("format") if isinstance(saved, dict) else saved
            raise ValueError(f"format {found!r}, expected {MANIFEST_FORMAT}")
        entries = [(str(entry["name"]), int(entry["first_id"]), int(entry["last_id"]))
                   for entry in saved["parts"]]
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed manifest: {error!r}") from None
    return sorted(entries, key=lambda entry: entry[1])
