"""Where the analytic store keeps things, and the few file operations it relies on.

One partition per tenant and survey, Hive style, so any Parquet reader understands it::

    {store_url}/responses/tenant={tenant}/survey={survey}/_definition.json
    {store_url}/responses/tenant={tenant}/survey={survey}/part-{first_id:012d}-{last_id:012d}.parquet

A part file that cannot be read (truncated, corrupt) is moved by sync to
``{store_url}/quarantine/`` under the same relative path, and its range rewritten.

A part file *covers* the id range ``first_id..last_id`` of the survey's responses: it
holds every complete response whose id is in that range. Ranges of live files are
contiguous from id 1, so the highest ``last_id`` is the sync watermark, read from file
names alone. On a local disk every write goes to a ``.tmp-`` name first and is renamed
into place, so a reader or a later sync never sees half a file. On object storage
(S3: no atomic rename) part files get a unique suffix, ``part-{first}-{last}-{token}``,
are never overwritten, and count only once the partition's ``_manifest.json`` lists
them (:mod:`cxlab.store.manifest`).

>>> part_name(1, 250)
'part-000000000001-000000000250.parquet'
>>> part_name(1, 250, token="0a1b2c3d4e5f")
'part-000000000001-000000000250-0a1b2c3d4e5f.parquet'
>>> part = PartFile.parse("/s/tenant=a/survey=b/part-000000000001-000000000250.parquet")
>>> part.first_id, part.last_id
(1, 250)
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fsspec
from fsspec import AbstractFileSystem

from cxlab.config import Config
from cxlab.errors import CxlabError, NotFound
from cxlab.identifiers import SLUG_PATTERN
from cxlab.store.manifest import MANIFEST_FILE, manifest_body, parse_manifest

PART_PATTERN = re.compile(r"^part-(\d{12})-(\d{12})(?:-[0-9a-f]{12})?\.parquet$")
TEMP_PREFIX = ".tmp-"
DEFINITION_FILE = "_definition.json"


class StoreError(CxlabError):
    """The store cannot be reached or holds something unexpected."""


class StoreNotFound(NotFound):
    """A tenant or survey that the store holds no data for."""


@dataclass(frozen=True)
class PartFile:
    """One Parquet file of a partition and the id range it covers."""

    path: str
    first_id: int
    last_id: int

    @classmethod
    def parse(cls, path: str) -> PartFile | None:
        """The part file at ``path``, or None when the name is not a part file's."""
        match = PART_PATTERN.match(posixpath.basename(path))
        if match is None:
            return None
        return cls(path=path, first_id=int(match[1]), last_id=int(match[2]))

    def inside(self, other: PartFile) -> bool:
        """True when this file's range lies within ``other``'s (a compaction leftover)."""
        return (
            self is not other
            and other.first_id <= self.first_id
            and self.last_id <= other.last_id
            and (self.first_id, self.last_id) != (other.first_id, other.last_id)
        )


def part_name(first_id: int, last_id: int, token: str | None = None) -> str:
    suffix = f"-{token}" if token else ""
    return f"part-{first_id:012d}-{last_id:012d}{suffix}.parquet"


def check_slug(kind: str, slug: str) -> str:
    """``slug`` if it is a valid tenant or survey slug, else :class:`StoreNotFound`."""
    # Every path of the store is built from checked slugs: "../other-tenant" is none.
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise StoreNotFound(f"{kind} {slug!r} is not a valid {kind} slug")
    return slug


class Store:
    """The analytic store at one fsspec URL (a local folder by default).

    >>> import tempfile
    >>> store = Store(tempfile.mkdtemp())
    >>> store.partition("acme", "store-visit").endswith("tenant=acme/survey=store-visit")
    True
    """

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **_storage_options(url))
            # A local disk renames atomically; an object store (S3: copy + delete) does
            # not, so there part files are committed through a manifest instead.
            self.renames_atomically = bool({"file", "local"} & set(_protocols(self.fs)))
            self.root = posixpath.join(root.rstrip("/") or "/", "responses")
            self.fs.makedirs(self.root, exist_ok=True)
        except Exception as error:  # noqa: BLE001 - any backend error means "unusable URL"
            raise StoreError(
                f"cannot use the analytic store at CXLAB_STORE_URL={url!r}: "
                f"{type(error).__name__}: {error}. Set CXLAB_STORE_URL to a writable folder "
                "or an fsspec URL (e.g. s3://bucket/cxlab with s3fs installed and "
                "credentials configured)."
            ) from None

    @classmethod
    def of(cls, config_or_url: Config | str | Store) -> Store:
        """A store from a :class:`Config`, a URL, or an existing store."""
        if isinstance(config_or_url, Store):
            return config_or_url
        if isinstance(config_or_url, Config):
            return cls(config_or_url.store_url)
        return cls(str(config_or_url))

    def tenant_dir(self, tenant: str) -> str:
        return posixpath.join(self.root, f"tenant={check_slug('tenant', tenant)}")

    def partition(self, tenant: str, survey: str) -> str:
        return posixpath.join(self.tenant_dir(tenant), f"survey={check_slug('survey', survey)}")

    def partitions(self) -> list[tuple[str, str]]:
        """Every ``(tenant, survey)`` the store holds a folder for."""
        found = []
        for tenant_dir in self._list_dirs(self.root, "tenant="):
            for survey_dir in self._list_dirs(tenant_dir, "survey="):
                found.append(
                    (
                        posixpath.basename(tenant_dir).removeprefix("tenant="),
                        posixpath.basename(survey_dir).removeprefix("survey="),
                    )
                )
        return sorted(found)

    def surveys(self, tenant: str) -> list[str]:
        """The slugs of ``tenant``'s surveys the store holds a folder for, sorted; none
        for a tenant it does not hold."""
        return [survey for owner, survey in self.partitions() if owner == tenant]

    def _list_dirs(self, path: str, prefix: str) -> list[str]:
        try:
            entries = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return []  # an object store has no empty folders: nothing synced yet
        return [
            entry["name"]
            for entry in entries
            if entry["type"] == "directory"
            and posixpath.basename(entry["name"]).startswith(prefix)
        ]

    def list_files(self, tenant: str, survey: str) -> tuple[list[PartFile], list[str]]:
        """The live part files of a partition (sorted, compaction leftovers removed)
        and the paths of files to clean up (temp files and leftovers; on object
        storage, every part file the manifest does not list)."""
        directory = self.partition(tenant, survey)
        if not self.renames_atomically:
            live = self._manifest_files(directory)
            listed = {posixpath.basename(part.path) for part in live}
            try:
                present = self.fs.ls(directory, detail=False)
            except FileNotFoundError:
                present = []
            junk = [path for path in present
                    if posixpath.basename(path).startswith(TEMP_PREFIX)
                    or (PartFile.parse(path) and posixpath.basename(path) not in listed)]
            return live, junk
        if not self.fs.exists(directory):
            return [], []
        parts, junk = [], []
        for path in self.fs.ls(directory, detail=False):
            name = posixpath.basename(path)
            part = PartFile.parse(path)
            if part is not None:
                parts.append(part)
            elif name.startswith(TEMP_PREFIX):
                junk.append(path)
        # A crash between a compaction's rename and its deletes leaves the originals
        # next to the merged file; their rows are in the merged file, so skip them.
        live = [part for part in parts if not any(part.inside(other) for other in parts)]
        junk += [part.path for part in parts if part not in live]
        return sorted(live, key=lambda part: part.first_id), junk

    def live_files(self, tenant: str, survey: str) -> list[PartFile]:
        """The part files a reader opens: on object storage exactly those the committed
        manifest lists (one GET, no listing), else the live files of the folder."""
        if self.renames_atomically:
            return self.list_files(tenant, survey)[0]
        return self._manifest_files(self.partition(tenant, survey))

    def _manifest_files(self, directory: str) -> list[PartFile]:
        path = posixpath.join(directory, MANIFEST_FILE)
        try:
            body = self.fs.cat_file(path)
        except FileNotFoundError:
            return []  # nothing committed yet (or the partition is being removed)
        try:
            entries = parse_manifest(body)
        except ValueError as error:
            raise StoreError(
                f"the store manifest {path} cannot be read ({error}); delete it and run "
                "`cxlab sync`, which rewrites the partition from the database"
            ) from None
        return [PartFile(posixpath.join(directory, name), first_id, last_id)
                for name, first_id, last_id in entries]

    def part_path(self, tenant: str, survey: str, first_id: int, last_id: int) -> str:
        """Where sync writes the part file of ``first_id..last_id``: the plain name on a
        local disk (renamed into place), a never-reused name on object storage."""
        token = None if self.renames_atomically else secrets.token_hex(6)
        return posixpath.join(self.partition(tenant, survey),
                              part_name(first_id, last_id, token))

    def commit(self, tenant: str, survey: str, files: list[PartFile]) -> None:
        """Make ``files`` the partition's live part files. On object storage this
        writes the manifest (one atomic PUT), the moment readers switch over; on a
        local disk each rename already did, so there is nothing to do."""
        if self.renames_atomically:
            return
        entries = [(posixpath.basename(part.path), part.first_id, part.last_id)
                   for part in files]
        path = posixpath.join(self.partition(tenant, survey), MANIFEST_FILE)
        self.fs.pipe_file(path, manifest_body(entries))

    def retire(self, paths: list[str]) -> None:
        """Delete part files no longer live (already gone is fine)."""
        for path in paths:
            try:
                self.fs.rm(path)
            except FileNotFoundError:
                continue

    def remove_partition(self, tenant: str, survey: str) -> None:
        """Delete a partition; on object storage its manifest first, so readers see
        it empty at once even if deleting the many objects is cut short."""
        directory = self.partition(tenant, survey)
        if not self.renames_atomically:
            self.retire([posixpath.join(directory, MANIFEST_FILE)])
        self.remove(directory, recursive=True)

    def write_atomic(self, path: str, write: Callable[[Any], None]) -> None:
        """Write ``path`` whole or not at all: through a temporary name renamed into
        place on a local disk; on object storage as one PUT of the finished bytes."""
        directory = posixpath.dirname(path)
        if not self.renames_atomically:
            buffer = io.BytesIO()
            write(buffer)
            self.fs.pipe_file(path, buffer.getvalue())
            return
        self.fs.makedirs(directory, exist_ok=True)
        temp = posixpath.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(6)}-"
                              f"{posixpath.basename(path)}")
        with self.fs.open(temp, "wb") as handle:
            write(handle)
        rename(self.fs, temp, path)

    def read_definitions(self, tenant: str, survey: str) -> dict[str, Any]:
        """The survey's definitions as stored by sync, or :class:`StoreNotFound`."""
        path = posixpath.join(self.partition(tenant, survey), DEFINITION_FILE)
        try:
            with self.fs.open(path, "rb") as handle:
                return json.load(handle)
        except FileNotFoundError:
            if not self.fs.exists(self.tenant_dir(tenant)):
                raise StoreNotFound(
                    f"the analytic store has no tenant {tenant!r}; check the slug, or run "
                    f"`cxlab sync --tenant {tenant}` if it was created recently"
                ) from None
            raise StoreNotFound(
                f"the analytic store has no survey {survey!r} for tenant {tenant!r}; check "
                f"the slug, or run `cxlab sync --tenant {tenant} --survey {survey}`"
            ) from None

    def write_definitions(self, tenant: str, survey: str, definitions: dict[str, Any]) -> None:
        path = posixpath.join(self.partition(tenant, survey), DEFINITION_FILE)
        body = json.dumps(definitions, ensure_ascii=False, sort_keys=True).encode()
        self.write_atomic(path, lambda handle: handle.write(body))

    def remove(self, path: str, *, recursive: bool = False) -> None:
        self.fs.rm(path, recursive=recursive)

    def quarantine(self, path: str, stamp: str) -> str:
        """Move a part file that cannot be read out of the partition, to
        ``{store_url}/quarantine/tenant=…/survey=…/<name>.<stamp>`` (kept for a look,
        never read); its new path."""
        relative = posixpath.relpath(path, self.root)
        target = posixpath.join(posixpath.dirname(self.root), "quarantine",
                                f"{relative}.{stamp}")
        self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
        rename(self.fs, path, target)
        return target


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    return (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)


def _storage_options(url: str) -> dict[str, Any]:
    """Options for the filesystem of ``url``. Object stores must not answer from a
    cached listing: the store changes under a long-lived process (a dashboard kernel,
    the scheduler) by other processes' syncs. Credentials and the endpoint come from
    the usual AWS variables (docs/store.md)."""
    protocol, _path = fsspec.core.split_protocol(url)
    if protocol in {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"}:
        return {"use_listings_cache": False}
    return {}


def rename(fs: AbstractFileSystem, source: str, target: str) -> None:
    """Rename ``source`` to ``target``, replacing it (atomic on a local disk).

    Its own function so tests can make it fail to simulate a crash before the rename.
    """
    fs.mv(source, target)
