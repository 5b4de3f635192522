"""Dashboard snapshots: the first view of a dashboard, computed ahead of the client.

Opening a dashboard shows the whole period for every segment. For a survey with a
million answers that analysis takes 1.5–2 s, the same for every client who opens it
until the next sync. So the result (chart JSON and the few HTML parts around it) is kept
next to the data it came from::

    {store}/responses/tenant={tenant}/survey={survey}/_dashboard-{view}.json

``cxlab sync`` writes them for every partition it changed; a dashboard that finds none
(or a stale one) analyses as before and writes it for the next visitor.

A snapshot is only used when its *version* equals the partition's current one: a digest
of the part files' names, sizes and modification times and of the stored definition.
Any sync that appends, rewrites (erasure) or compacts changes it, so a snapshot never
shows answers the store no longer holds. Snapshots live inside their tenant's partition
and are read only by a dashboard of that tenant and survey.

>>> import tempfile
>>> from cxlab.store import Store
>>> store = Store(tempfile.mkdtemp())
>>> version = partition_version(store, "acme", "visit")
>>> write_snapshot(store, "acme", "visit", "all-every-en", version, {"n": 3})
>>> read_snapshot(store, "acme", "visit", "all-every-en", version)
{'n': 3}
>>> read_snapshot(store, "acme", "visit", "all-every-en", "another version") is None
True
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import posixpath
import re
from datetime import UTC, datetime
from typing import Any

from cxlab.store.layout import DEFINITION_FILE, PART_PATTERN, Store

PREFIX = "_dashboard-"
# e.g. all-every-ja, page-30d-en, page-all-en-segment-<digest>, segment-pages-ja: never a
# path (the names of snapshots are made here, but a check costs nothing).
VIEW_NAME = re.compile(r"[a-z0-9]+-[a-z0-9]+-[a-z]{2}(-segment-[0-9a-f]{16})?")


def opening_view(language: str) -> str:
    """The name of the view a dashboard opens with in ``language``.

    >>> opening_view("ja")
    'all-every-ja'
    """
    return f"all-every-{language}"


def snapshot_path(store: Store, tenant: str, survey: str, view: str) -> str:
    """Where the snapshot of ``view`` (e.g. ``"all-every-ja"``) is kept."""
    if not VIEW_NAME.fullmatch(view):
        raise ValueError(f"not a snapshot view name: {view!r}")
    return posixpath.join(store.partition(tenant, survey), f"{PREFIX}{view}.json")


# Written into a tenant's store folder whenever its organisation tree changes
# (mark_organisation_changed): the tree decides what a dashboard's segment table rolls
# the answers up into, so the tenant's snapshots and static pages must not outlive it.
ORGANISATION_MARK = "_organisation-changed"


def partition_version(store: Store, tenant: str, survey: str) -> str:
    """A digest that changes whenever the partition's data or definition changes, or
    the tenant's organisation tree does."""
    directory = store.partition(tenant, survey)
    try:
        entries = store.fs.ls(directory, detail=True)
    except FileNotFoundError:
        return "empty"
    with contextlib.suppress(FileNotFoundError):  # a tenant whose tree never changed
        entries.append(store.fs.info(posixpath.join(store.tenant_dir(tenant),
                                                    ORGANISATION_MARK)))
    described = sorted(
        (posixpath.basename(entry["name"]), entry.get("size"),
         str(entry.get("mtime") or entry.get("LastModified") or entry.get("updated") or ""))
        for entry in entries
        if PART_PATTERN.match(posixpath.basename(entry["name"]))
        or posixpath.basename(entry["name"]) in (DEFINITION_FILE, ORGANISATION_MARK)
    )
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()[:32]


def mark_organisation_changed(store: Store, tenant: str) -> None:
    """Make every snapshot and static page of ``tenant`` stale: its organisation tree
    changed (``cxlab org load``). The mark holds the time, so each change differs."""
    stamp = datetime.now(UTC).isoformat().encode()
    store.write_atomic(posixpath.join(store.tenant_dir(tenant), ORGANISATION_MARK),
                       lambda handle: handle.write(stamp))


def read_snapshot(
    store: Store, tenant: str, survey: str, view: str, version: str
) -> dict[str, Any] | None:
    """The content saved for ``view`` when it was made from ``version``; else None."""
    try:
        with store.fs.open(snapshot_path(store, tenant, survey, view), "rb") as handle:
            saved = json.load(handle)
    except (FileNotFoundError, ValueError, OSError):
        return None
    if not isinstance(saved, dict) or saved.get("version") != version:
        return None
    return saved.get("content")


def write_snapshot(
    store: Store, tenant: str, survey: str, view: str, version: str, content: dict[str, Any]
) -> None:
    """Save ``content`` for ``view`` as made from ``version`` (atomically: readers see
    the old file or the new one, never half of one)."""
    body = json.dumps({"version": version, "content": content}, ensure_ascii=False).encode()
    store.write_atomic(snapshot_path(store, tenant, survey, view),
                       lambda handle: handle.write(body))


# Raised whenever the static page's markup changes meaning (cxlab.dashboards.static_page):
# a page rendered under another layout is never served.
STATIC_PAGE_LAYOUT = 2


def static_page_view(language: str, period: str = "all", segment: str = "") -> str:
    """The name under which the static page of ``period`` in ``language`` is kept: over
    every segment, or over one ``segment`` (a value of the survey's first attribute,
    any text: named by its digest).

    >>> static_page_view("en"), static_page_view("ja", "30d")
    ('page-all-en', 'page-30d-ja')
    >>> static_page_view("en", "all", "shibuya-01")
    'page-all-en-segment-1df7e34cc204383b'
    """
    if segment:
        digest = hashlib.sha256(segment.encode()).hexdigest()[:16]
        return f"page-{period}-{language}-segment-{digest}"
    return f"page-{period}-{language}"


def segment_pages_view(language: str) -> str:
    """The name of the note listing which segments got a static page in ``language``
    (one read tells the sync whether they are all current).

    >>> segment_pages_view("ja")
    'segment-pages-ja'
    """
    return f"segment-pages-{language}"


def read_static_page(
    store: Store, tenant: str, survey: str, language: str, period: str = "all",
    segment: str = "",
) -> dict[str, Any] | None:
    """The static page of ``tenant``'s ``survey`` for ``period`` over every segment, or
    over one ``segment`` (``html``, and the ``periods`` and ``segments`` its form
    offers), only while it is current: made from the partition's present version and
    under this code's :data:`STATIC_PAGE_LAYOUT`."""
    version = partition_version(store, tenant, survey)
    saved = read_snapshot(store, tenant, survey, static_page_view(language, period, segment),
                          version)
    if not saved or saved.get("layout") != STATIC_PAGE_LAYOUT or "html" not in saved:
        return None
    return saved
