"""Migration 0013 (issue #14) goes down to 0012 and up again on SQLite and PostgreSQL,
keeping the rows, and the upgraded schema equals the models."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cxlab.db.models import Base, Response
from cxlab.surveys import parse_definition
from sqlalchemy import func, inspect, select

from survey_server.testing import publish_survey_with_key

PULSE = parse_definition({"slug": "pulse", "title": "Pulse",
                          "questions": [{"id": "nps", "type": "nps", "label": "NPS"}]})


def _run(database, action, revision: str) -> None:
    config = database._alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, revision)


def test_0013_downgrades_and_upgrades_keeping_rows(any_database):
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    with any_database.session() as session:
        session.add(Response(tenant_id=seeded.tenant_id, survey_id=seeded.survey_id,
                             survey_version=1, submitted_at=datetime.now(UTC),
                             answers={"nps": 9}, idempotency_key="api:1:k"))
    _run(any_database, command.downgrade, "0012")
    with any_database.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("users")}
        assert "session_generation" not in columns
        assert "opt_out_links" not in inspect(connection).get_table_names()
    _run(any_database, command.upgrade, "head")
    assert any_database.is_migrated()
    with any_database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    with any_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 1
