"""GDPR erasure that reaches the analytic store at once, not at the next scheduled sync.

Any deletion in the database is reflected by the next :func:`~cxlab.store.sync` (see
docs/store.md); these helpers delete and then sync just the affected partitions, so an
erasure request is complete when they return.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select

from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Response, Survey, Tenant
from cxlab.store.layout import Store
from cxlab.store.syncing import sync
from cxlab.tenancy import get_tenant


def erase_responses(
    database: Database, config: Config | Store | str, tenant: str, response_ids: Iterable[int]
) -> int:
    """Delete the tenant's responses ``response_ids`` from the database and the store;
    the number deleted. Ids of another tenant are left alone.

    Example, with a migrated database and a synced store::

        erase_responses(database, config, "acme", [1041, 1042])
        # 2
    """
    ids = sorted(set(response_ids))
    with database.session() as session:
        tenant_row = get_tenant(session, tenant)
        owned = (Response.tenant_id == tenant_row.id, Response.id.in_(ids))
        surveys = session.scalars(
            select(Survey.slug).join(Response, Response.survey_id == Survey.id)
            .where(*owned).distinct()
        ).all()
        deleted = session.execute(delete(Response).where(*owned)).rowcount
    for survey in surveys:
        sync(database, config, tenant=tenant, survey=survey, progress=False)
    return deleted


def erase_tenant(database: Database, config: Config | Store | str, tenant: str) -> None:
    """Delete a tenant with everything it owns (foreign keys cascade) from the database,
    then its folder from the store.

    Example, with a migrated database and a synced store::

        erase_tenant(database, config, "acme")
    """
    with database.session() as session:
        session.execute(delete(Tenant).where(Tenant.id == get_tenant(session, tenant).id))
    sync(database, config, tenant=tenant, progress=False)
