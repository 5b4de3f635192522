"""Verification: does the store hold exactly the database's complete responses?

Per tenant/survey it compares the count and the sum of response ids (a checksum that
any missing, extra or duplicated response changes) and looks for duplicate ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, select

from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Response, Survey, Tenant
from cxlab.store.checksums import id_summary, read_ids
from cxlab.store.layout import Store

Key = tuple[str, str]


@dataclass(frozen=True)
class Gap:
    """A tenant/survey whose store copy differs from the database."""

    tenant: str
    survey: str
    database_count: int
    store_count: int
    database_id_sum: int
    store_id_sum: int
    duplicates: int = 0
    unreadable: tuple[str, ...] = ()  # part files that cannot be read (counted as empty)

    def __str__(self) -> str:
        text = (
            f"{self.tenant}/{self.survey}: database has {self.database_count:,} complete "
            f"responses, store has {self.store_count:,} (id checksum "
            f"{self.database_id_sum} vs {self.store_id_sum}, {self.duplicates} duplicate ids)"
        )
        if self.unreadable:
            text += f"; unreadable: {', '.join(self.unreadable)} (cxlab sync rebuilds them)"
        return text


@dataclass
class VerifyReport:
    checked: int = 0
    gaps: list[Gap] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.gaps


def verify(
    database: Database,
    config: Config | Store | str,
    *,
    tenant: str | None = None,
    survey: str | None = None,
    upto: Mapping[Key, int] | None = None,
) -> VerifyReport:
    """Compare database and store per tenant/survey; every difference is a :class:`Gap`.

    ``upto`` bounds the comparison to response ids up to a sync's watermark per
    partition (what ``sync_command`` passes), so responses that arrive while it runs
    are not reported; without it the whole database is compared.

    Example, with a migrated database and a synced store::

        report = verify(database, config)
        report.ok, [str(gap) for gap in report.gaps]
        # (True, [])
    """
    store = Store.of(config)
    report = VerifyReport()
    with database.engine.connect() as connection:
        query = select(Tenant.slug, Survey.slug, Tenant.id, Survey.id).join(
            Tenant, Tenant.id == Survey.tenant_id
        )
        if tenant is not None:
            query = query.where(Tenant.slug == tenant)
        if survey is not None:
            query = query.where(Survey.slug == survey)
        surveys = {(row[0], row[1]): (row[2], row[3]) for row in connection.execute(query)}
        expected: dict[Key, tuple[int, int]] = {}
        for key, (tenant_id, survey_id) in surveys.items():
            condition = [Response.tenant_id == tenant_id, Response.survey_id == survey_id,
                         Response.status == "complete"]
            if upto is not None:
                condition.append(Response.id <= upto.get(key, 0))
            count, total = connection.execute(
                select(func.count(), func.coalesce(func.sum(Response.id), 0)).where(*condition)
            ).one()
            expected[key] = (int(count), int(total))
    stored_keys = {
        key for key in store.partitions()
        if (tenant is None or key[0] == tenant) and (survey is None or key[1] == survey)
    }
    for key in sorted(stored_keys | set(expected)):
        files, _junk = store.list_files(*key)
        chunks, unreadable = [], []
        for part in files:
            try:
                chunks += read_ids(store, part).chunks
            except (pa.ArrowException, OSError):
                unreadable.append(part.path)
        ids = pa.chunked_array(chunks, pa.int64())
        if upto is not None:
            ids = ids.filter(pc.less_equal(ids, upto.get(key, 0)))
        actual = id_summary(ids)
        duplicates = len(ids) - len(pc.unique(ids))
        wanted = expected.get(key, (0, 0))
        report.checked += 1
        if actual != wanted or duplicates or unreadable:
            report.gaps.append(Gap(*key, wanted[0], actual[0], wanted[1], actual[1], duplicates,
                                   tuple(unreadable)))
    return report
