"""Reading responses out of the database into Arrow tables with a survey's columns.

Speed matters here (the target is 100,000 responses/s from SQLite), so no Python
object is made per response: the database renders each response as one JSON line,
``{"i": id, "t": submitted_at, "v": invitation_id, "s": version, "a": attributes,
"q": answers}``, aggregates a batch into a single text (``group_concat`` on SQLite,
``string_agg`` on PostgreSQL), and Arrow's C++ JSON reader parses it into columns.
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
from sqlalchemy import Connection, text

from cxlab.store.columns import ColumnPlan, QuestionColumns
from cxlab.surveys.types import question_type

_SQLITE_LINE = (
    """'{"i":' || id || ',"t":"' || submitted_at || '","v":' || coalesce(invitation_id, 'null')"""
    """ || ',"s":' || survey_version || ',"a":' || coalesce(attributes, '{}')"""
    """ || ',"q":' || replace(replace(coalesce(answers, '{}'), char(10), ' '), char(13), ' ')"""
    """ || '}'"""
)
_POSTGRES_LINE = (
    "json_build_object('i', id, 't', to_char(submitted_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD HH24:MI:SS.US'), 'v', invitation_id, 's', survey_version, "
    "'a', attributes, 'q', answers)::text"
)
_WHERE = (
    "tenant_id = :tenant_id AND survey_id = :survey_id AND status = 'complete' "
    "AND id > :after AND id <= :upto"
)
_SQL = {
    "sqlite": (
        f"SELECT group_concat(line, char(10)) FROM (SELECT {_SQLITE_LINE} AS line "
        f"FROM responses WHERE {_WHERE} ORDER BY id LIMIT :limit)"
    ),
    "postgresql": (
        f"SELECT string_agg(line, E'\\n' ORDER BY id) FROM (SELECT id, {_POSTGRES_LINE} "
        f"AS line FROM responses WHERE {_WHERE} ORDER BY id LIMIT :limit) AS batch"
    ),
}
NO_LIMIT = 2**62


def fetch_responses(
    connection: Connection,
    plan: ColumnPlan,
    tenant_id: int,
    survey_id: int,
    *,
    after: int = 0,
    upto: int = NO_LIMIT,
    limit: int = NO_LIMIT,
) -> pa.Table:
    """Complete responses with ``after < id <= upto`` (the first ``limit`` by id), as
    a table with ``plan.schema``, sorted by response id."""
    lines = connection.execute(
        text(_SQL[connection.dialect.name]),
        {"tenant_id": tenant_id, "survey_id": survey_id, "after": after, "upto": upto,
         "limit": limit},
    ).scalar()
    if not lines:
        return plan.schema.empty_table()
    if isinstance(lines, str):
        lines = lines.encode()
    # One line per response: a raw line break can only be whitespace between JSON
    # tokens (inside strings it is escaped), so SQLite's query blanks them out and
    # PostgreSQL's JSON text never has any.
    parsed = pajson.read_json(
        io.BytesIO(lines),
        parse_options=pajson.ParseOptions(
            explicit_schema=_line_schema(plan), unexpected_field_behavior="ignore"
        ),
    )
    ids = parsed["i"]
    if len(ids) > 1 and not pc.all(pc.greater(ids[1:], ids[:-1])).as_py():
        parsed = parsed.take(pc.sort_indices(ids))
    attributes = parsed["a"].combine_chunks()
    answers = parsed["q"].combine_chunks()
    # SQLite keeps UTC without an offset (cxlab.db.models.UTCDateTime); so does to_char.
    stamps = parsed["t"].cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    arrays = [parsed["i"], stamps, parsed["v"], parsed["s"].cast(pa.int16())]
    arrays += [attributes.field(name) for name in plan.attributes]
    for question in plan.questions:
        arrays += _stored_arrays(question, answers.field(question.id))
    return pa.Table.from_arrays(arrays, schema=plan.schema)


def _stored_arrays(question: QuestionColumns, parsed: pa.Array) -> list[pa.Array]:
    """A question's stored columns from its parsed JSON answers (see ``_json_type``)."""
    match question_type(question.type).parsed_as:
        case "list":
            return _option_flags(parsed, question.options)
        case "object":
            return [parsed.field(part).cast(question.arrow_type) for part in question.options]
    return [parsed.cast(question.arrow_type)]


def _line_schema(plan: ColumnPlan) -> pa.Schema:
    answers = pa.struct([(question.id, _json_type(question)) for question in plan.questions])
    attributes = pa.struct([(name, pa.string()) for name in plan.attributes])
    return pa.schema([("i", pa.int64()), ("t", pa.string()), ("v", pa.int64()),
                      ("s", pa.int64()), ("a", attributes), ("q", answers)])


def _json_type(question: QuestionColumns) -> pa.DataType:
    """How Arrow's JSON reader parses one question's answer. Scores parse as float64 so
    that 4.0 reads like 4; the cast to int8 then fails loudly on a fraction or an
    out-of-range value rather than storing nonsense."""
    parsed_as = question_type(question.type).parsed_as
    if parsed_as == "list":
        return pa.list_(pa.string())
    if parsed_as == "object":  # a matrix: one score per row
        return pa.struct([(part, pa.float64()) for part in question.options])
    return {"float64": pa.float64(), "string": pa.string()}[parsed_as]


def _option_flags(chosen: pa.Array, options: tuple[str, ...]) -> list[pa.Array]:
    """One boolean per option of a multi question (null where it was not answered)."""
    flat = pc.list_flatten(chosen)
    parents = pc.list_parent_indices(chosen).to_numpy()
    unanswered = chosen.is_null().to_numpy(zero_copy_only=False)
    flags = []
    for option in options:
        hits = np.zeros(len(chosen), dtype=bool)
        hits[parents[pc.equal(flat, option).to_numpy(zero_copy_only=False)]] = True
        flags.append(pa.array(hits, mask=unanswered))
    return flags
