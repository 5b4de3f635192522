"""The analytic store on S3: sync, verify, loading, erasure, crash safety without an
atomic rename (part files committed through a manifest), quarantine and the dashboards'
snapshots, against a real local S3 server (moto's server mode, see conftest) reached
through s3fs and the usual AWS variables."""

from __future__ import annotations

import json
import posixpath
import subprocess
import sys

import pytest
from cxlab.cli.store import sync_command
from cxlab.dashboards.snapshots import partition_version, read_snapshot, write_snapshot
from cxlab.db.models import Response
from cxlab.store import (
    Store,
    StoreNotFound,
    erase_responses,
    erase_tenant,
    load_responses,
    sync,
    verify,
)
from cxlab.store.layout import PartFile
from cxlab.store.manifest import MANIFEST_FILE
from sqlalchemy import delete
from test_store import SURVEY, add_survey, database_answers, more_responses
from test_store_recovery import SimulatedCrash, crash_on_call


def objects(url: str, tenant: str = "acme") -> list[str]:
    """The names of every object in the partition, as S3 lists them."""
    store = Store(url)
    try:
        return sorted(posixpath.basename(path)
                      for path in store.fs.ls(store.partition(tenant, SURVEY), detail=False))
    except FileNotFoundError:
        return []


def parts(url: str, tenant: str = "acme") -> list[str]:
    return [name for name in objects(url, tenant) if PartFile.parse(name)]


def manifest(url: str, tenant: str = "acme") -> list[str]:
    store = Store(url)
    body = store.fs.cat_file(posixpath.join(store.partition(tenant, SURVEY), MANIFEST_FILE))
    return [entry["name"] for entry in json.loads(body)["parts"]]


def ids_of(database, tenant: str) -> list[int]:
    return [row.id for row in database_answers(database, tenant)]


def assert_store_matches_database(database, url: str, tenant: str = "acme") -> None:
    """Readers get exactly the database's complete responses, the manifest lists every
    part object and only those, and verify agrees."""
    assert load_responses(url, tenant, SURVEY)["response_id"].tolist() == \
        ids_of(database, tenant)
    assert manifest(url, tenant) == parts(url, tenant)
    assert verify(database, url).ok


def test_sync_load_and_verify_on_s3(any_database, s3_store_url):
    database = any_database
    url = s3_store_url
    add_survey(database, "acme", 250, seed=1)
    add_survey(database, "globex", 40, seed=2)
    report = sync(database, url, progress=False, batch_size=100)
    assert report.appended == 290
    assert Store(url).renames_atomically is False
    # Each batch is a part file under a name of its own, listed by the manifest.
    assert len(parts(url)) == 3 and manifest(url) == parts(url)
    assert all(PartFile.parse(name) for name in parts(url))
    assert "_definition.json" in objects(url)

    frame = load_responses(url, "acme", SURVEY)
    assert frame["response_id"].tolist() == ids_of(database, "acme")
    assert str(frame["nps"].dtype) == "Int8" and str(frame["store"].dtype) == "category"
    # Tenancy: each tenant's load holds exactly its own rows.
    assert load_responses(url, "globex", SURVEY)["response_id"].tolist() == \
        ids_of(database, "globex")
    with pytest.raises(StoreNotFound):
        load_responses(url, "../tenant=globex", SURVEY)
    filtered = load_responses(url, "acme", SURVEY, filters={"nps": [9, 10]}, columns=["nps"])
    assert len(filtered) == frame["nps"].isin([9, 10]).sum()

    more_responses(database, "acme", 30, seed=3)
    assert sync(database, url, progress=False, batch_size=100).appended == 30
    assert sync(database, url, progress=False).appended == 0
    assert len(parts(url)) == 4
    assert_store_matches_database(database, url)


def test_erasure_on_s3_replaces_files_and_removes_the_tenant(database, s3_store_url):
    url = s3_store_url
    add_survey(database, "acme", 120, seed=1)
    add_survey(database, "globex", 30, seed=2)
    sync(database, url, progress=False, batch_size=50)
    before = parts(url)
    acme, globex = ids_of(database, "acme"), ids_of(database, "globex")
    # A globex id named for acme is not acme's to erase.
    assert erase_responses(database, url, "acme", [acme[3], acme[60], globex[0]]) == 2
    after = parts(url)
    # The two files that held them were rewritten under new names, the old ones deleted.
    assert len(after) == 3 and len(set(before) & set(after)) == 1
    assert manifest(url) == after
    loaded = load_responses(url, "acme", SURVEY)["response_id"]
    assert len(loaded) == 118 and not loaded.isin([acme[3], acme[60]]).any()
    assert len(load_responses(url, "globex", SURVEY)) == 30
    assert verify(database, url).ok

    erase_tenant(database, url, "globex")
    assert objects(url, "globex") == []
    with pytest.raises(StoreNotFound, match="no tenant 'globex'"):
        load_responses(url, "globex", SURVEY)
    assert len(load_responses(url, "acme", SURVEY)) == 118


def test_a_crash_between_part_write_and_commit_leaves_readers_the_committed_view(
    database, s3_store_url, monkeypatch
):
    url = s3_store_url
    add_survey(database, "acme", 350)
    # Commit 1 lists the first part file; the sync dies after writing the second.
    monkeypatch.setattr(Store, "commit", crash_on_call(2, Store.commit))
    with pytest.raises(SimulatedCrash):
        sync(database, url, progress=False, batch_size=100)
    monkeypatch.undo()
    assert len(parts(url)) == 2 and len(manifest(url)) == 1  # one written, not committed
    assert len(load_responses(url, "acme", SURVEY)) == 100  # readers see what is committed
    assert verify(database, url).gaps[0].store_count == 100  # the orphan is not counted

    report = sync(database, url, progress=False, batch_size=100)
    assert report.appended == 250 and report.partitions[0].cleaned_files == 1
    assert len(parts(url)) == 4  # the orphan is gone
    assert_store_matches_database(database, url)


def test_a_crash_before_an_erasures_commit_keeps_the_old_view_until_the_rerun(
    database, s3_store_url, monkeypatch
):
    url = s3_store_url
    add_survey(database, "acme", 200)
    sync(database, url, progress=False, batch_size=100)
    before = parts(url)
    erased = ids_of(database, "acme")[10]
    with database.session() as session:
        session.execute(delete(Response).where(Response.id == erased))
    monkeypatch.setattr(Store, "commit", crash_on_call(1, Store.commit))
    with pytest.raises(SimulatedCrash):
        sync(database, url, progress=False)
    monkeypatch.undo()
    # The rewritten file exists but is not committed: readers still read the old pair.
    assert len(parts(url)) == 3 and manifest(url) == before
    assert len(load_responses(url, "acme", SURVEY)) == 200

    assert sync(database, url, progress=False).partitions[0].rewritten_files == 1
    assert len(parts(url)) == 2
    assert_store_matches_database(database, url)  # without the erased one


KILLED_SYNC = """
import os, sys
from cxlab.db import Database
from cxlab.store import Store, sync
commits = []
real_commit = Store.commit
def commit_then_die(self, tenant, survey, files):
    commits.append(len(files))
    if len(commits) == 2:  # the second part file is written; die before committing it
        os._exit(9)
    real_commit(self, tenant, survey, files)
Store.commit = commit_then_die
sync(Database(sys.argv[1]), sys.argv[2], progress=False, batch_size=100)
"""


def test_a_sync_process_killed_before_its_commit_recovers_on_rerun(database, s3_store_url):
    url = s3_store_url
    add_survey(database, "acme", 250)
    killed = subprocess.run([sys.executable, "-c", KILLED_SYNC, database.url, url],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr
    assert len(load_responses(url, "acme", SURVEY)) == 100
    assert sync(database, url, progress=False, batch_size=100).appended == 150
    assert_store_matches_database(database, url)


def test_compaction_on_s3_and_a_crash_before_its_deletes(database, s3_store_url,
                                                         monkeypatch):
    url = s3_store_url
    add_survey(database, "acme", 10)
    for seed in range(1, 5):
        sync(database, url, progress=False, max_files=100)
        more_responses(database, "acme", 10, seed=seed)
    assert len(parts(url)) == 4
    # The merged file is committed, then the sync dies before deleting the originals.
    monkeypatch.setattr(Store, "remove", crash_on_call(1, Store.remove))
    with pytest.raises(SimulatedCrash):
        sync(database, url, progress=False, max_files=3)
    monkeypatch.undo()
    assert len(manifest(url)) == 1 and len(parts(url)) == 6  # merged + 5 leftovers
    frame = load_responses(url, "acme", SURVEY)
    assert frame["response_id"].tolist() == ids_of(database, "acme")
    assert sync(database, url, progress=False).partitions[0].cleaned_files == 5
    assert len(parts(url)) == 1
    assert_store_matches_database(database, url)


def test_a_reader_whose_files_a_sync_replaces_meanwhile_reads_the_new_ones(
    database, s3_store_url, monkeypatch
):
    url = s3_store_url
    add_survey(database, "acme", 150)
    sync(database, url, progress=False, batch_size=100)
    store = Store(url)
    listed_before_the_sync = store.live_files("acme", SURVEY)
    erased = ids_of(database, "acme")[0]
    erase_responses(database, url, "acme", [erased])  # rewrites and deletes a listed file
    real = Store.live_files
    calls = {"n": 0}

    def first_answer_is_stale(self, tenant, survey):
        calls["n"] += 1
        return listed_before_the_sync if calls["n"] == 1 else real(self, tenant, survey)

    monkeypatch.setattr(Store, "live_files", first_answer_is_stale)
    frame = load_responses(store, "acme", SURVEY)
    assert calls["n"] >= 2 and len(frame) == 149 and erased not in set(frame["response_id"])


def test_an_unreadable_or_missing_part_object_is_rebuilt(database, s3_config, capsys):
    url = s3_config.store_url
    add_survey(database, "acme", 300)
    sync(database, url, progress=False, batch_size=100)
    store = Store(url)
    first, second, _third = store.live_files("acme", SURVEY)
    body = store.fs.cat_file(second.path)
    store.fs.pipe_file(second.path, body[: len(body) // 2])  # truncated
    store.fs.rm(first.path)  # gone (deleted by hand, a lifecycle rule)
    gaps = verify(database, url).gaps
    assert len(gaps) == 1 and gaps[0].store_count == 100
    assert sync_command(s3_config, verify=True, progress=False, snapshots=False) == 0
    err = capsys.readouterr().err
    assert "quarantined" in err and posixpath.basename(second.path) in err
    quarantine = posixpath.join(posixpath.dirname(store.root), "quarantine")
    assert any(posixpath.basename(second.path) in path for path in store.fs.find(quarantine))
    assert load_responses(url, "acme", SURVEY)["response_id"].tolist() == \
        ids_of(database, "acme")
    assert manifest(url) == parts(url) and len(parts(url)) == 3


def test_dashboard_snapshots_live_beside_the_partition_on_s3(database, s3_config, capsys):
    add_survey(database, "acme", 200)
    assert sync_command(s3_config, progress=False) == 0
    assert "refreshed the opening view of 1 dashboard(s)" in capsys.readouterr().out
    assert {"_dashboard-all-every-en.json", "_dashboard-all-every-ja.json"} <= \
        set(objects(s3_config.store_url))
    store = Store(s3_config.store_url)
    version = partition_version(store, "acme", SURVEY)
    assert read_snapshot(store, "acme", SURVEY, "all-every-en", version) is not None
    assert sync_command(s3_config, progress=False) == 0  # unchanged: nothing recomputed
    assert "refreshed" not in capsys.readouterr().out

    write_snapshot(store, "acme", SURVEY, "all-every-en", version, {"n": 1})
    more_responses(database, "acme", 5, seed=9)
    sync(database, store, progress=False)
    assert partition_version(store, "acme", SURVEY) != version  # new answers: stale
    assert read_snapshot(store, "acme", SURVEY, "all-every-en",
                         partition_version(store, "acme", SURVEY)) is None
