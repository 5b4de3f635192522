"""The analytic store recovers: a sync that crashes or is killed part way, a compaction
cut short, a truncated part file, one survey that fails to sync. On real SQLite and a
store in a temp folder, with the helpers of test_store."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cxlab.cli.store import sync_command
from cxlab.errors import CxlabError
from cxlab.store import extract, layout, load_responses, sync, syncing, verify
from test_store import SURVEY, add_survey, database_answers, more_responses, part_files


class SimulatedCrash(BaseException):
    """A process dying mid-sync: not an Exception, which sync records per survey and
    survives (see test_one_surveys_failure_never_stops_the_others)."""


def crash_on_call(number: int, original):
    """``original``, except that its ``number``-th call dies with :class:`SimulatedCrash`."""
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise SimulatedCrash("simulated crash")
        return original(*args, **kwargs)
    return wrapper


@pytest.mark.parametrize("crash", ["before_rename", "while_extracting"])
def test_crash_mid_sync_then_rerun_leaves_exactly_one_copy(database, config, monkeypatch,
                                                           crash):
    add_survey(database, "acme", 350)
    if crash == "before_rename":
        # Rename 1 is _definition.json, 2 the first part file, 3 the second.
        monkeypatch.setattr(layout, "rename", crash_on_call(3, layout.rename))
    else:
        monkeypatch.setattr(syncing, "fetch_responses", crash_on_call(2, extract.fetch_responses))
    with pytest.raises(SimulatedCrash, match="simulated crash"):
        sync(database, config, progress=False, batch_size=100)
    monkeypatch.undo()
    directory = part_files(config)[0].parent
    if crash == "before_rename":
        assert list(directory.glob(".tmp-*"))  # the half-done write is left behind
    partial = load_responses(config, "acme", SURVEY)
    assert len(partial) == 100  # readers see only renamed files

    report = sync(database, config, progress=False, batch_size=100)
    assert report.appended == 250
    assert not list(directory.glob(".tmp-*"))
    frame = load_responses(config, "acme", SURVEY)
    assert len(frame) == 350 and frame["response_id"].is_unique
    assert verify(database, config).ok


def test_compaction_merges_small_files_and_survives_a_crash_before_the_deletes(
    database, config, tmp_path
):
    add_survey(database, "acme", 10)
    for seed in range(1, 6):
        sync(database, config, progress=False, batch_size=100, max_files=100)
        more_responses(database, "acme", 10, seed=seed)
    originals = tmp_path / "originals"
    originals.mkdir()
    for path in part_files(config):
        shutil.copy(path, originals / path.name)
    assert len(part_files(config)) == 5

    report = sync(database, config, progress=False, batch_size=100, max_files=3)
    assert report.partitions[0].compacted_files == 6
    assert len(part_files(config)) == 1
    # As if the sync died after the merged file's rename, before deleting the originals.
    for path in originals.iterdir():
        shutil.copy(path, part_files(config)[0].parent / path.name)
    frame = load_responses(config, "acme", SURVEY)
    assert len(frame) == 60 and frame["response_id"].is_unique
    assert verify(database, config).ok
    assert sync(database, config, progress=False).partitions[0].cleaned_files == 5
    assert len(part_files(config)) == 1


KILLED_SYNC = """
import os, sys
from cxlab.db import Database
from cxlab.store import layout, sync
renames = []
def rename_then_die(fs, source, target):
    renames.append(target)
    if len(renames) == 3:  # _definition.json, part 1, then die before part 2's rename
        os._exit(9)
    fs.mv(source, target)
layout.rename = rename_then_die
sync(Database(sys.argv[1]), sys.argv[2], progress=False, batch_size=100)
"""


def test_a_sync_killed_between_write_and_rename_recovers_on_rerun(database, config):
    add_survey(database, "acme", 250)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SYNC, config.database_url, config.store_url],
        capture_output=True, text=True, timeout=60,
    )
    assert killed.returncode == 9, killed.stderr
    assert len(load_responses(config, "acme", SURVEY)) == 100
    assert not verify(database, config).ok
    assert sync(database, config, progress=False, batch_size=100).appended == 150
    frame = load_responses(config, "acme", SURVEY)
    assert len(frame) == 250 and frame["response_id"].is_unique
    assert verify(database, config).ok


def truncate(path: Path) -> None:
    """Cut a part file in half, as a full disk or a crashed disk would leave it."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_truncated_part_file_is_named_quarantined_and_rebuilt(
    database, config, capsys, webhook
):
    webhook_url, received = webhook
    config = dataclasses.replace(config, webhook_url=webhook_url)
    add_survey(database, "acme", 300)
    sync(database, config, progress=False, batch_size=100)
    bad = part_files(config)[1]
    truncate(bad)
    with pytest.raises(CxlabError, match=re.escape(bad.name)):
        load_responses(config, "acme", SURVEY)  # names the file, not "filters None"
    gaps = verify(database, config).gaps  # what cxlab check runs: a gap, not a traceback
    assert len(gaps) == 1 and bad.name in str(gaps[0])
    assert sync_command(config, verify=True, progress=False) == 0
    err = capsys.readouterr().err
    assert "quarantined" in err and bad.name in err
    quarantined = list((Path(config.store_url) / "quarantine").rglob(f"{bad.name}.*"))
    assert len(quarantined) == 1
    assert bad.name in received[0]["text"]
    frame = load_responses(config, "acme", SURVEY)
    assert sorted(frame["response_id"]) == [row.id for row in database_answers(database, "acme")]
    assert sync_command(config, progress=False) == 0  # and the next run is quiet
    assert "quarantined" not in capsys.readouterr().err


def test_one_surveys_failure_never_stops_the_others(database, config, capsys, monkeypatch):
    add_survey(database, "acme", 100)
    add_survey(database, "beta", 100, seed=2)
    real = syncing._append

    def broken_for_acme(connection, store, target, *args):
        if target.tenant == "acme":
            raise OSError("injected: the acme partition cannot be written")
        return real(connection, store, target, *args)

    monkeypatch.setattr(syncing, "_append", broken_for_acme)
    assert sync_command(config, progress=False) == 1  # non-zero at the end
    err = capsys.readouterr().err
    assert "FAILED sync of acme/store-visit" in err and "injected" in err
    assert len(load_responses(config, "beta", SURVEY)) == 100  # beta synced all the same
    monkeypatch.setattr(syncing, "_append", real)
    assert sync_command(config, progress=False) == 0
    assert len(load_responses(config, "acme", SURVEY)) == 100
