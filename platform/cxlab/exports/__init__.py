"""Taking a survey's answers out: every export format, one entry point for the CLI
(``cxlab export``), the portal and the JSON API.

=========  ==========================================================================
format     what
=========  ==========================================================================
csv        one row per response (UTF-8 with BOM, formula-safe) — :mod:`.table`
jsonl      one JSON object per response, answers as given — :mod:`.table`
xlsx       the CSV's table as an Excel workbook — :mod:`.table`
sav        SPSS, with variable and value labels — :mod:`.labelled`
dta        Stata 14+, with variable and value labels — :mod:`.labelled`
long       one line per answer: response id, question, value, label — :mod:`.long`
=========  ==========================================================================

Every format reads its rows through :func:`export_rows`, so the anonymity rules of an
unlinked survey (:mod:`.segments`) apply to each alike.

>>> check_format("sav")
'sav'
>>> check_format("pdf")
Traceback (most recent call last):
...
cxlab.exports.ExportRefused: format 'pdf': must be one of csv, jsonl, xlsx, sav, dta, long
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxlab.db.models import Survey, Tenant
from cxlab.errors import CxlabError
from cxlab.exports.segments import small_segments, without_small_segments
from cxlab.stored_responses import StoredResponse
from cxlab.surveys.definition import SurveyDefinition


@dataclass(frozen=True)
class ExportFormat:
    content_type: str
    extension: str


FORMATS = {
    "csv": ExportFormat("text/csv; charset=utf-8", "csv"),
    "jsonl": ExportFormat("application/x-ndjson; charset=utf-8", "jsonl"),
    "xlsx": ExportFormat(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "sav": ExportFormat("application/x-spss-sav", "sav"),
    "dta": ExportFormat("application/x-stata-dta", "dta"),
    "long": ExportFormat("text/csv; charset=utf-8", "long.csv"),
}


class ExportRefused(CxlabError):
    """An export that cannot be made as asked (an unknown format)."""


def check_format(kind: str) -> str:
    """``kind`` if it is a format, else :class:`ExportRefused` naming the formats."""
    if kind not in FORMATS:
        raise ExportRefused(f"format {kind!r}: must be one of {', '.join(FORMATS)}")
    return kind


def file_name(survey_slug: str, kind: str) -> str:
    """The name an export is saved under.

    >>> file_name("store-visit", "long")
    'store-visit-responses.long.csv'
    """
    return f"{survey_slug}-responses.{FORMATS[kind].extension}"


def tenant_language(session: Session, survey: Survey) -> str:
    """The language of the survey's tenant: the language of an export's labels."""
    return session.scalar(select(Tenant.language).where(Tenant.id == survey.tenant_id))


def export_rows(definition: SurveyDefinition,
                read_rows: Callable[[], Iterable[StoredResponse]]) -> Iterable[StoredResponse]:
    """The rows an export may show. ``read_rows`` reads them afresh on each call: an
    anonymous (unlinked) survey is read twice, once to find the segments too small to
    show (:func:`cxlab.exports.segments.small_segments`) and once to write."""
    rows = read_rows()
    if definition.anonymity.unlinked:
        hidden = small_segments(definition, read_rows(), definition.anonymity.min_group)
        rows = without_small_segments(definition, rows, hidden)
    return rows


def export_stream(definition: SurveyDefinition,
                  read_rows: Callable[[], Iterable[StoredResponse]], kind: str,
                  language: str) -> Iterator[bytes]:
    """The export of ``kind`` as blocks of bytes; labels in ``language``."""
    from cxlab.exports import labelled, long, table  # pandas and pyreadstat load on use

    rows = export_rows(definition, read_rows)
    match check_format(kind):
        case "csv":
            return table.csv_stream(definition, rows)
        case "jsonl":
            return table.jsonl_stream(rows)
        case "xlsx":
            return table.xlsx_stream(definition, rows)
        case "long":
            return long.long_stream(definition, rows, language)
        case _:
            return labelled.labelled_stream(definition, rows, kind, language)
