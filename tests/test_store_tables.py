"""The store read in place by another engine: DuckDB's Hive-partitioned Parquet reader
over the synced files (on the local S3 server and in a local folder) finds exactly the
columns and types that the Athena/Trino table definitions declare, and the rows of the
database; docs/store.md shows those definitions as the code makes them."""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from cxlab.cli import main
from cxlab.cli.store import table_sql_command
from cxlab.store import Store, sync
from cxlab.store.columns import ColumnPlan
from cxlab.store.tables import _TYPES, column_types, create_table_sql
from cxlab.surveys import EXAMPLES_DIR, load_definition, parse_definition
from test_store import SURVEY, add_survey, database_answers

DOCS = Path(__file__).resolve().parents[1] / "docs" / "store.md"


@pytest.fixture(params=["s3", "folder"])
def store_url(request, config) -> str:
    if request.param == "s3":
        return request.getfixturevalue("s3_store_url")
    return config.store_url


def connect(url: str) -> duckdb.DuckDBPyConnection:
    """DuckDB reading ``url``: an S3 store through s3fs (the same credentials and
    endpoint as cxlab; DuckDB's own S3 extension would be downloaded at run time)."""
    connection = duckdb.connect()
    if url.startswith("s3://"):
        connection.register_filesystem(Store(url).fs)
    return connection


def test_duckdb_reads_the_synced_files_as_the_table_definition_declares(database, store_url):
    add_survey(database, "acme", 120, seed=1)
    add_survey(database, "globex", 40, seed=2)
    # A second definition version for acme adds a column its older files do not have.
    raw = copy.deepcopy(load_definition(EXAMPLES_DIR / "restaurant_visit.yaml").raw)
    raw["questions"].append({"id": "parking", "type": "rating", "label": "Parking",
                             "scale": {"min": 1, "max": 5}})
    add_survey(database, "acme", 20, seed=3, definition=parse_definition(raw))
    sync(database, store_url, progress=False, batch_size=50)

    plan = ColumnPlan(Store(store_url).read_definitions("acme", SURVEY)["versions"])
    files = f"{store_url.rstrip('/')}/responses/*/*/*.parquet"
    scan = f"read_parquet('{files}', hive_partitioning = true, union_by_name = true)"
    connection = connect(store_url)
    described = {row[0]: row[1] for row in connection.sql(f"DESCRIBE SELECT * FROM {scan}")
                 .fetchall()}

    declared = dict(column_types(plan, "duckdb"))
    assert "parking" in declared and declared["parking"] == "TINYINT"
    assert described == {**declared, "tenant": "VARCHAR", "survey": "VARCHAR"}
    # The Athena and Trino definitions declare the same columns, in the matching types.
    duckdb_of = {types[engine]: types["duckdb"] for types in _TYPES.values()
                 for engine in ("athena", "trino")}
    for engine in ("athena", "trino"):
        columns = column_types(plan, engine)
        assert [name for name, _ in columns] == list(declared)
        assert {name: duckdb_of[kind] for name, kind in columns} == declared
        statement = create_table_sql(plan, "store_visit", "s3://b/cxlab/responses/", engine)
        quote = "`" if engine == "athena" else '"'
        assert all(f"{quote}{name}{quote} {kind}" in statement for name, kind in columns)

    counted = connection.sql(
        f"SELECT tenant, survey, count(*), sum(response_id), "
        "count(*) FILTER (WHERE survey_version = 2), "
        "count(parking) FILTER (WHERE survey_version = 1) "
        f"FROM {scan} GROUP BY ALL ORDER BY tenant").fetchall()
    expected = []
    for tenant in ("acme", "globex"):
        ids = [row.id for row in database_answers(database, tenant)]
        expected.append((tenant, SURVEY, len(ids), sum(ids), 20 if tenant == "acme" else 0, 0))
    assert counted == expected
    assert connection.sql(f"SELECT count(parking) FROM {scan}").fetchall()[0][0] > 0
    # The partition columns select one tenant's files, as a WHERE in Athena would.
    acme_ids = connection.sql(f"SELECT response_id FROM {scan} WHERE tenant = 'acme' "
                              "ORDER BY response_id").fetchall()
    assert [row[0] for row in acme_ids] == [row.id for row in database_answers(database,
                                                                               "acme")]


def test_the_docs_show_the_table_definitions_the_code_makes():
    plan = ColumnPlan({1: load_definition(EXAMPLES_DIR / "restaurant_visit.yaml").raw})
    text = DOCS.read_text()
    for engine in ("athena", "trino"):
        statement = create_table_sql(plan, "store_visit", "s3://your-bucket/cxlab/responses/",
                                     engine)
        assert f"```sql\n{statement}\n```" in text, f"docs/store.md: refresh the {engine} DDL"


def test_the_table_sql_command_prints_a_synced_surveys_table(database, s3_config, capsys):
    add_survey(database, "acme", 10)
    sync(database, s3_config, progress=False)
    table_sql_command(s3_config, "acme", SURVEY, "trino")
    plan = ColumnPlan(Store(s3_config.store_url).read_definitions("acme", SURVEY)["versions"])
    location = f"{s3_config.store_url}/responses/"
    assert capsys.readouterr().out.strip() == create_table_sql(plan, "store_visit", location,
                                                               "trino")
    result = CliRunner().invoke(main, ["table-sql", "acme", "nothing"],
                                env={"CXLAB_STORE_URL": s3_config.store_url,
                                     "CXLAB_VAR_DIR": str(s3_config.var_dir),
                                     "CXLAB_ENV": "test"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no survey 'nothing' for tenant 'acme'" in result.output
