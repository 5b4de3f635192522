"""The schema, on SQLite always and on PostgreSQL when CXLAB_TEST_POSTGRES_URL is set."""

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cxlab import tenancy
from cxlab.db.models import Base, Response, Tenant
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import get_survey, list_surveys, publish_survey
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError


def test_migrations_build_exactly_the_models(any_database):
    with any_database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrate_is_idempotent(any_database):
    any_database.migrate()
    assert any_database.is_migrated()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database):
    with database.engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert connection.scalar(text("PRAGMA busy_timeout")) >= 5000


def _survey(session, slug="acme"):
    tenant = tenancy.create_tenant(session, slug, slug.title())
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    return tenant, publish_survey(session, tenant, definition)


def test_idempotency_key_is_unique_per_survey(any_database):
    with any_database.session() as session:
        tenant, survey = _survey(session)
    row = dict(tenant_id=tenant.id, survey_id=survey.id, survey_version=1,
               submitted_at=datetime.now(UTC), answers={"nps": 9}, idempotency_key="k1")
    with any_database.session() as session:
        session.add(Response(**row))
    with pytest.raises(IntegrityError), any_database.session() as session:
        session.add(Response(**row))


def test_timestamps_come_back_aware_in_utc(any_database):
    with any_database.session() as session:
        tenant, survey = _survey(session)
        moment = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
        session.add(Response(tenant_id=tenant.id, survey_id=survey.id, survey_version=1,
                             submitted_at=moment, answers={"nps": 10, "note": "寿司"}))
    with any_database.session() as session:
        stored = session.scalars(select(Response)).one()
        assert stored.submitted_at == moment
        assert stored.answers == {"nps": 10, "note": "寿司"}


def test_deleting_a_tenant_deletes_its_rows(any_database):
    with any_database.session() as session:
        tenant, survey = _survey(session)
        session.add(Response(tenant_id=tenant.id, survey_id=survey.id, survey_version=1,
                             submitted_at=datetime.now(UTC), answers={"nps": 3}))
    with any_database.session() as session:
        session.delete(session.get(Tenant, tenant.id))
    with any_database.session() as session:
        assert session.scalar(select(Response.id)) is None


def test_a_changed_definition_makes_a_new_version_and_the_same_one_does_not(any_database):
    with any_database.session() as session:
        tenant, survey = _survey(session)
        definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
        assert publish_survey(session, tenant, definition).version == 1
        raw = {**definition.raw, "title": "Changed"}
        from cxlab.surveys import parse_definition

        assert publish_survey(session, tenant, parse_definition(raw)).version == 2


def test_one_tenant_cannot_reach_another_tenants_survey(any_database):
    from cxlab.errors import NotFound

    with any_database.session() as session:
        _survey(session, "acme")
        other = tenancy.create_tenant(session, "rival", "Rival")
        with pytest.raises(NotFound):
            get_survey(session, other, "store-visit")
        assert list_surveys(session, other) == []
