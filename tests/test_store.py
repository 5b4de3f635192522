"""The analytic store: sync, verify, erasure and loading, on real SQLite (and
PostgreSQL when CXLAB_TEST_POSTGRES_URL is set) and a store in a temp folder."""

from __future__ import annotations

import copy
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow.compute as pc
import pytest
from cxlab.cli.store import sync_command
from cxlab.db.models import Response, Tenant
from cxlab.errors import CxlabError, NotFound
from cxlab.seed import seed_responses
from cxlab.store import (
    StoreError,
    StoreNotFound,
    erase_responses,
    erase_tenant,
    load_responses,
    survey_definition,
    sync,
    verify,
)
from cxlab.surveys import EXAMPLES_DIR, load_definition, parse_definition
from cxlab.surveys.catalog import definition_of, get_survey, publish_survey
from cxlab.tenancy import create_tenant, get_tenant
from sqlalchemy import delete, select

SURVEY = "store-visit"


def add_survey(database, tenant_slug: str, count: int, *, seed: int = 0, definition=None):
    """Create the tenant if needed, publish the restaurant survey, seed ``count``."""
    definition = definition or load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    with database.session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        tenant = tenant or create_tenant(session, tenant_slug, tenant_slug)
        survey = publish_survey(session, tenant, definition)
    if count:
        seed_responses(database, survey, definition_of(survey), count, seed=seed)
    return survey


def more_responses(database, tenant_slug: str, count: int, seed: int = 1) -> None:
    with database.session() as session:
        survey = get_survey(session, get_tenant(session, tenant_slug), SURVEY)
    seed_responses(database, survey, definition_of(survey), count, seed=seed)


def database_answers(database, tenant_slug: str) -> pd.DataFrame:
    with database.session() as session:
        tenant = get_tenant(session, tenant_slug)
        rows = session.execute(
            select(Response.id, Response.answers, Response.attributes)
            .where(Response.tenant_id == tenant.id, Response.status == "complete")
            .order_by(Response.id)
        ).all()
    return rows


def part_files(config, tenant: str = "acme") -> list[Path]:
    directory = Path(config.store_url) / "responses" / f"tenant={tenant}" / f"survey={SURVEY}"
    return sorted(directory.glob("part-*.parquet"))


def test_round_trip_of_every_question_type(database, config):
    add_survey(database, "acme", 300)
    report = sync(database, config, progress=False)
    assert report.appended == 300
    frame = load_responses(config, "acme", SURVEY)
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")

    assert str(frame["nps"].dtype) == "Int8" and str(frame["wait_time"].dtype) == "Int8"
    assert list(frame["visit_purpose"].cat.categories) == ["lunch", "dinner", "cafe", "party"]
    assert list(frame["store"].cat.categories) == list(definition.attribute("store").values)
    assert str(frame["heard_from__sns"].dtype) == "boolean"
    assert pd.api.types.is_string_dtype(frame["comment"])
    assert str(frame["submitted_at"].dtype) == "datetime64[us, UTC]"
    assert frame["response_id"].is_monotonic_increasing

    rows = database_answers(database, "acme")
    assert frame["response_id"].tolist() == [row.id for row in rows]
    for position, row in enumerate(rows):
        record = frame.iloc[position]
        for question in definition.questions:
            answer = row.answers.get(question.id)
            if question.type == "multi":
                for option in question.option_values():
                    stored = record[f"{question.id}__{option}"]
                    assert (stored is pd.NA) if answer is None else stored == (option in answer)
            elif answer is None:
                assert pd.isna(record[question.id])
            else:
                assert record[question.id] == answer
        assert record["store"] == row.attributes["store"]
        assert record["channel"] == row.attributes["channel"]
    assert frame["low_score_reason"].isna().sum() > 0  # show_if: asked only of detractors
    assert survey_definition(config, "acme", SURVEY).question("nps").type == "nps"


def test_incremental_sync_appends_only_new_responses(database, config):
    add_survey(database, "acme", 200)
    assert sync(database, config, progress=False).appended == 200
    more_responses(database, "acme", 120)
    assert sync(database, config, progress=False).appended == 120
    assert sync(database, config, progress=False).appended == 0
    frame = load_responses(config, "acme", SURVEY)
    assert len(frame) == 320 and frame["response_id"].is_unique
    assert len(part_files(config)) == 2
    assert verify(database, config).ok


def test_verify_detects_a_deleted_file_and_sync_repairs_it(database, config, capsys):
    add_survey(database, "acme", 300)
    sync(database, config, progress=False, batch_size=100)
    part_files(config)[1].unlink()  # the middle file
    report = verify(database, config)
    assert not report.ok
    assert report.gaps[0].database_count == 300 and report.gaps[0].store_count == 200
    assert sync_command(config, verify=True, progress=False) == 0
    assert "store matches the database" in capsys.readouterr().out
    assert len(load_responses(config, "acme", SURVEY)) == 300


def test_verify_detects_a_database_row_missing_from_the_store(database, config, capsys,
                                                              monkeypatch):
    add_survey(database, "acme", 50)
    sync(database, config, progress=False)
    with database.session() as session:
        session.execute(delete(Response).where(Response.id == 7))
    gaps = verify(database, config).gaps
    assert [(gap.database_count, gap.store_count) for gap in gaps] == [(49, 50)]
    # A sync that silently skipped its reconciliation would be caught by --verify.
    monkeypatch.setattr("cxlab.store.syncing._reconcile", lambda *args: 0)
    assert sync_command(config, verify=True, progress=False) == 1
    assert "GAP acme/store-visit" in capsys.readouterr().err


def test_erasure_of_a_response_and_of_a_tenant_reaches_the_store(database, config):
    add_survey(database, "acme", 120)
    add_survey(database, "globex", 30)
    sync(database, config, progress=False, batch_size=50)
    with database.session() as session:
        session.execute(delete(Response).where(Response.id.in_([3, 60])))
    report = sync(database, config, progress=False, batch_size=50)
    assert report.partitions[0].rewritten_files == 2
    ids = load_responses(config, "acme", SURVEY, columns=["response_id"])["response_id"]
    assert len(ids) == 118 and not ids.isin([3, 60]).any()

    with database.session() as session:
        session.execute(delete(Tenant).where(Tenant.slug == "globex"))
    report = sync(database, config, progress=False)
    assert report.removed_partitions == [("globex", SURVEY)]
    assert not (Path(config.store_url) / "responses" / "tenant=globex").exists()
    with pytest.raises(StoreNotFound, match="no tenant 'globex'"):
        load_responses(config, "globex", SURVEY)
    assert verify(database, config).ok


def test_a_tenant_never_loads_another_tenants_rows(database, config):
    add_survey(database, "acme", 40, seed=1)
    add_survey(database, "globex", 60, seed=2)
    sync(database, config, progress=False)
    acme_ids = {row.id for row in database_answers(database, "acme")}
    frame = load_responses(config, "acme", SURVEY)
    assert set(frame["response_id"]) == acme_ids
    everything = pc.field("response_id") > 0
    assert set(load_responses(config, "acme", SURVEY, filters=everything)["response_id"]) \
        == acme_ids
    with pytest.raises(CxlabError, match="cannot filter on 'tenant'"):
        load_responses(config, "acme", SURVEY, filters={"tenant": "globex"})
    with pytest.raises(CxlabError):
        load_responses(config, "acme", SURVEY, filters=pc.field("tenant") == "globex")
    for sneaky in ("acme/../tenant=globex", "../responses/tenant=globex", "*", "acme/.."):
        with pytest.raises(NotFound):
            load_responses(config, sneaky, SURVEY)
    with pytest.raises(NotFound):
        load_responses(config, "acme", "../../tenant=globex/survey=store-visit")


def test_filters_time_range_and_columns(database, config):
    add_survey(database, "acme", 400)
    sync(database, config, progress=False)
    frame = load_responses(config, "acme", SURVEY)
    cut = frame["submitted_at"].iloc[200]
    later = load_responses(config, "acme", SURVEY, start=cut, columns=["nps", "heard_from"])
    assert len(later) == (frame["submitted_at"] >= cut).sum()
    assert list(later.columns) == ["nps", "heard_from__sns", "heard_from__friend",
                                   "heard_from__walk_by", "heard_from__review_site"]
    naive = cut.tz_convert("UTC").tz_localize(None).isoformat()
    assert len(load_responses(config, "acme", SURVEY, end=naive)) == 400 - len(later)
    shibuya = load_responses(config, "acme", SURVEY, filters={"store": "shibuya-01",
                                                              "nps": [9, 10]})
    expected = frame[(frame["store"] == "shibuya-01") & frame["nps"].isin([9, 10])]
    assert shibuya["response_id"].tolist() == expected["response_id"].tolist()
    assert list(shibuya["store"].cat.categories) == list(frame["store"].cat.categories)
    with pytest.raises(CxlabError, match="no column 'nope'"):
        load_responses(config, "acme", SURVEY, columns=["nope"])


def test_fresh_load_includes_the_unsynced_tail(database, config):
    add_survey(database, "acme", 100)
    sync(database, config, progress=False)
    more_responses(database, "acme", 25)
    assert len(load_responses(config, "acme", SURVEY)) == 100
    fresh = load_responses(config, "acme", SURVEY, fresh=True, database=database,
                           filters={"channel": ["dine-in", "takeout"]})
    assert len(fresh) == 125 and fresh["response_id"].is_unique
    assert str(fresh["nps"].dtype) == "Int8"


def test_a_new_definition_version_adds_columns_without_rewriting_history(database, config):
    add_survey(database, "acme", 80)
    sync(database, config, progress=False)
    before = {path.name: path.stat().st_mtime_ns for path in part_files(config)}
    raw = copy.deepcopy(load_definition(EXAMPLES_DIR / "restaurant_visit.yaml").raw)
    raw["questions"].append({"id": "parking", "type": "rating", "label": "Parking",
                             "scale": {"min": 1, "max": 5}})
    add_survey(database, "acme", 20, seed=5, definition=parse_definition(raw))
    report = sync(database, config, progress=False)
    assert report.appended == 20 and report.partitions[0].rewritten_files == 0
    assert {name: before[name] for name in before} == {
        path.name: path.stat().st_mtime_ns for path in part_files(config) if path.name in before
    }
    frame = load_responses(config, "acme", SURVEY)
    assert str(frame["parking"].dtype) == "Int8"
    assert frame.loc[frame["survey_version"] == 1, "parking"].isna().all()
    assert frame.loc[frame["survey_version"] == 2, "parking"].notna().any()
    assert survey_definition(config, "acme", SURVEY).question("parking").label["en"] == "Parking"


def test_unknown_tenant_or_survey_is_a_clear_not_found(database, config):
    add_survey(database, "acme", 5)
    sync(database, config, progress=False)
    with pytest.raises(StoreNotFound, match="no tenant 'nobody'"):
        load_responses(config, "nobody", SURVEY)
    with pytest.raises(StoreNotFound, match="no survey 'nothing' for tenant 'acme'"):
        survey_definition(config, "acme", "nothing")
    with pytest.raises(NotFound):
        sync(database, config, tenant="nobody", progress=False)


@pytest.mark.parametrize("url", ["nosuchprotocol://bucket/store", "/dev/null/store"])
def test_an_unusable_store_url_names_the_variable(database, config, url):
    with pytest.raises(StoreError, match="CXLAB_STORE_URL"):
        sync(database, url, progress=False)
    with pytest.raises(StoreError, match="CXLAB_STORE_URL"):
        load_responses(url, "acme", SURVEY)


def test_sync_and_verify_from_either_database(any_database, config):
    add_survey(any_database, "acme", 150, seed=3)
    add_survey(any_database, "globex", 70, seed=4)
    report = sync(any_database, config, progress=False, batch_size=64)
    assert report.appended == 220
    with any_database.session() as session:
        first_acme = session.scalar(
            select(Response.id).join(Tenant, Tenant.id == Response.tenant_id)
            .where(Tenant.slug == "acme").order_by(Response.id).limit(1)
        )
        session.execute(delete(Response).where(Response.id == first_acme))
    more_responses(any_database, "globex", 10)
    report = sync(any_database, config, progress=False, tenant="acme")
    assert report.appended == 0 and report.partitions[0].rewritten_files == 1
    assert verify(any_database, config, tenant="acme").ok
    assert not verify(any_database, config).ok  # globex's 10 new ones are not synced yet
    sync(any_database, config, progress=False, survey=SURVEY)
    assert verify(any_database, config).ok
    frame = load_responses(config, "globex", SURVEY)
    assert len(frame) == 80
    rows = {row.id: row for row in database_answers(any_database, "globex")}
    for record in frame.head(20).itertuples():
        answers = rows[record.response_id].answers
        assert record.nps == answers["nps"]
        assert record.visit_purpose == answers.get("visit_purpose")
        assert record.heard_from__friend == ("friend" in answers["heard_from"])
    assert json.loads(json.dumps(list(frame.columns)))[:4] == [
        "response_id", "submitted_at", "invitation_id", "survey_version"]


def test_a_partial_response_completed_after_later_ones_were_synced_is_picked_up(database,
                                                                                config):
    survey = add_survey(database, "acme", 0)
    with database.session() as session:
        partial = Response(
            tenant_id=survey.tenant_id, survey_id=survey.id, survey_version=1,
            status="partial", submitted_at=datetime(2026, 10, 1, tzinfo=UTC),
            answers={"nps": 3}, attributes={"store": "umeda-04"}, resume_page=1,
        )
        session.add(partial)
    more_responses(database, "acme", 30)
    assert sync(database, config, progress=False).appended == 30
    assert partial.id not in set(load_responses(config, "acme", SURVEY)["response_id"])

    with database.session() as session:
        session.get(Response, partial.id).status = "complete"
    report = sync(database, config, progress=False)
    assert report.appended == 0 and report.partitions[0].rewritten_files == 1
    frame = load_responses(config, "acme", SURVEY)
    assert len(frame) == 31
    completed = frame[frame["response_id"] == partial.id].iloc[0]
    assert completed["nps"] == 3 and completed["store"] == "umeda-04"
    assert pd.isna(completed["visit_purpose"]) and pd.isna(completed["heard_from__sns"])
    assert verify(database, config).ok


def test_erasure_helpers_apply_at_once_and_only_to_the_named_tenant(database, config):
    add_survey(database, "acme", 40, seed=1)
    add_survey(database, "globex", 40, seed=2)
    sync(database, config, progress=False)
    acme_ids = sorted(row.id for row in database_answers(database, "acme"))
    globex_ids = sorted(row.id for row in database_answers(database, "globex"))
    # A globex id passed for acme is not acme's to erase.
    assert erase_responses(database, config, "acme", [acme_ids[0], globex_ids[0]]) == 1
    assert acme_ids[0] not in set(load_responses(config, "acme", SURVEY)["response_id"])
    assert len(load_responses(config, "globex", SURVEY)) == 40
    erase_tenant(database, config, "globex")
    with pytest.raises(StoreNotFound):
        load_responses(config, "globex", SURVEY)
    assert len(load_responses(config, "acme", SURVEY)) == 39
    assert verify(database, config).ok


def test_any_fsspec_url_works_as_the_store(database):
    add_survey(database, "acme", 120)
    url = f"memory://cxlab-store-{secrets.token_hex(4)}"  # stands in for s3:// here
    try:
        assert sync(database, url, progress=False, batch_size=50).appended == 120
        assert len(load_responses(url, "acme", SURVEY)) == 120
        assert verify(database, url).ok
    finally:
        fsspec.filesystem("memory").rm(url.removeprefix("memory://"), recursive=True)
