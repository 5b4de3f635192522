"""Table definitions for engines that query the store where it lies: Athena, Trino
(Hive connector), and the column types DuckDB reads the same files as.

The store is Hive-partitioned (``responses/tenant=…/survey=…/part-….parquet``), so one
external table per survey *definition* covers that survey for every tenant that has
it, with ``tenant`` and ``survey`` as partition columns; a query names both. Columns
come from the survey's :class:`~cxlab.store.columns.ColumnPlan`, so they are the ones
sync writes (files of older definition versions lack the newer columns; the engines
match Parquet columns by name and read those as NULL). docs/store.md shows the result
for the restaurant example, and a test reads synced files with DuckDB to check it.

>>> from cxlab.store.columns import ColumnPlan
>>> plan = ColumnPlan({1: {"slug": "pulse", "title": "Pulse", "questions": [
...     {"id": "enps", "type": "nps", "label": "eNPS"}]}})
>>> print(create_table_sql(plan, "pulse", "s3://bucket/cxlab/responses/"))
CREATE EXTERNAL TABLE `pulse` (
  `response_id` bigint,
  `submitted_at` timestamp,
  `invitation_id` bigint,
  `survey_version` smallint,
  `enps` tinyint
)
PARTITIONED BY (tenant string, survey string)
STORED AS PARQUET
LOCATION 's3://bucket/cxlab/responses/';
"""

from __future__ import annotations

import pyarrow as pa

from cxlab.store.columns import ColumnPlan

PARTITION_COLUMNS = ("tenant", "survey")
# How Hive DDL and Trino quote an identifier: always, so that a question called
# "comment" or "date" (keywords to some engines) needs no special case.
BACKTICK, DOUBLE_QUOTE = "`", '"'

# Per engine: the SQL type of each Parquet type the store writes.
_TYPES: dict[str, dict[str, str]] = {
    #            athena (Hive DDL), trino (Hive connector), duckdb (read_parquet)
    "int64": {"athena": "bigint", "trino": "bigint", "duckdb": "BIGINT"},
    "int16": {"athena": "smallint", "trino": "smallint", "duckdb": "SMALLINT"},
    "int8": {"athena": "tinyint", "trino": "tinyint", "duckdb": "TINYINT"},
    "double": {"athena": "double", "trino": "double", "duckdb": "DOUBLE"},
    "bool": {"athena": "boolean", "trino": "boolean", "duckdb": "BOOLEAN"},
    "string": {"athena": "string", "trino": "varchar", "duckdb": "VARCHAR"},
    # Parquet TIMESTAMP(MICROS, adjusted to UTC): instants; Hive tables have no zone.
    "timestamp[us, tz=UTC]": {"athena": "timestamp", "trino": "timestamp(6)",
                              "duckdb": "TIMESTAMP WITH TIME ZONE"},
}
ENGINES = ("athena", "trino", "duckdb")


def column_types(plan: ColumnPlan, engine: str) -> list[tuple[str, str]]:
    """``(column, SQL type)`` of every stored column of the survey, in ``engine``'s
    types (one of :data:`ENGINES`), without the partition columns.

    >>> from cxlab.store.columns import ColumnPlan
    >>> plan = ColumnPlan({1: {"slug": "s", "title": "S", "questions": [
    ...     {"id": "enps", "type": "nps", "label": "eNPS"}]}})
    >>> column_types(plan, "duckdb")[:2]
    [('response_id', 'BIGINT'), ('submitted_at', 'TIMESTAMP WITH TIME ZONE')]
    """
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: choose one of {', '.join(ENGINES)}")
    return [(field.name, _sql_type(field.type, engine)) for field in plan.schema]


def _sql_type(arrow_type: pa.DataType, engine: str) -> str:
    try:
        return _TYPES[str(arrow_type)][engine]
    except KeyError:
        raise ValueError(f"no {engine} type for the stored type {arrow_type}") from None


def create_table_sql(plan: ColumnPlan, table: str, location: str,
                     engine: str = "athena") -> str:
    """The statement that declares the survey's table over the store's ``responses/``
    folder at ``location`` (e.g. ``s3://bucket/cxlab/responses/``), for ``"athena"``
    (Hive DDL; load partitions with ``MSCK REPAIR TABLE``) or ``"trino"`` (Hive
    connector; register partitions with ``system.sync_partition_metadata``)."""
    if engine == "athena":
        lines = ",\n".join(f"  {_quoted(name, BACKTICK)} {kind}"
                           for name, kind in column_types(plan, engine))
        partitions = ", ".join(f"{name} string" for name in PARTITION_COLUMNS)
        return (f"CREATE EXTERNAL TABLE {_quoted(table, BACKTICK)} (\n{lines}\n)\n"
                f"PARTITIONED BY ({partitions})\nSTORED AS PARQUET\n"
                f"LOCATION '{location}';")
    if engine == "trino":
        # The Hive connector wants the partition columns last, among the columns.
        columns = [*column_types(plan, engine), *((name, "varchar")
                                                  for name in PARTITION_COLUMNS)]
        lines = ",\n".join(f"  {_quoted(name, DOUBLE_QUOTE)} {kind}" for name, kind in columns)
        partitions = ", ".join(f"'{name}'" for name in PARTITION_COLUMNS)
        return (f"CREATE TABLE {_quoted(table, DOUBLE_QUOTE)} (\n{lines}\n)\nWITH (\n"
                f"  format = 'PARQUET',\n  external_location = '{location}',\n"
                f"  partitioned_by = ARRAY[{partitions}]\n);")
    raise ValueError(f"engine {engine!r}: choose athena or trino")


def _quoted(name: str, quote: str) -> str:
    return f"{quote}{name}{quote}"
