"""Migration 0014 (issue #17) goes down to 0013 and up again on SQLite and PostgreSQL,
keeping every tenant's rows (no table rebuild of ``tenants`` cascading deletes)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cxlab import tenancy
from cxlab.db.models import Base, Tenant, User
from sqlalchemy import func, inspect, select
from test_security_migration import _run


def test_0014_downgrades_and_upgrades_keeping_rows(any_database):
    with any_database.session() as session:
        tenant = tenancy.create_tenant(session, "acme", "Acme", language="en")
        tenancy.create_user(session, tenant, "ana@acme.example", "long passphrase")
    _run(any_database, command.downgrade, "0013")
    with any_database.engine.connect() as connection:
        assert "language" not in {c["name"] for c in inspect(connection).get_columns("tenants")}
        assert "report_subscriptions" not in inspect(connection).get_table_names()
    _run(any_database, command.upgrade, "head")
    with any_database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    with any_database.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        # Upgraded rows take the default language.
        assert session.scalar(select(Tenant.language)) == "ja"
