"""Checksums of response ids, the store's against the database's: a part file holds
the right responses when the count and the sum of its ids equal those of the complete
responses in its id range. Sync rewrites a file that differs; verify reports it.

>>> import pyarrow as pa
>>> id_summary(pa.array([3, 4, 8]))
(3, 15)
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, and_, case, func, select

from cxlab.db.models import Response
from cxlab.store.layout import PartFile, Store


def id_summary(ids: pa.Array | pa.ChunkedArray) -> tuple[int, int]:
    """``(count, sum)`` of response ids: the checksum sync and verify compare."""
    total = pc.sum(ids).as_py() if len(ids) else 0
    return len(ids), int(total or 0)


def read_ids(store: Store, part: PartFile) -> pa.ChunkedArray:
    """The response ids a part file holds (only that column is read)."""
    return pq.read_table(part.path, columns=["response_id"], filesystem=store.fs)[
        "response_id"
    ]


def database_summaries(
    connection: Connection, tenant_id: int, survey_id: int, ranges: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """``(count, sum of ids)`` of complete responses in each id range, in one query."""
    if not ranges:
        return []
    columns = []
    for first, last in ranges:
        inside = and_(Response.id >= first, Response.id <= last)
        columns += [func.sum(case((inside, 1), else_=0)),
                    func.sum(case((inside, Response.id), else_=0))]
    row = connection.execute(
        select(*columns).where(
            Response.tenant_id == tenant_id, Response.survey_id == survey_id,
            Response.status == "complete",
        )
    ).one()
    values = [int(value or 0) for value in row]
    return list(zip(values[::2], values[1::2], strict=True))
