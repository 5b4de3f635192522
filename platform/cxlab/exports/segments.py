"""What an export of an anonymous (unlinked) survey hides: attribute values held by
fewer than ``min_group`` rows, combinations of values (with the day) still that small,
and the hour of each answer. Every export format reads its rows through
:func:`cxlab.exports.export_rows`, which applies this.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace

from cxlab.anonymity import is_small, suppressed_groups
from cxlab.stored_responses import StoredResponse
from cxlab.surveys.definition import SurveyDefinition

HIDDEN = "(hidden)"
"""The value an export shows in place of an attribute value it hides."""


def small_segments(
    definition: SurveyDefinition, rows: Iterable[StoredResponse], min_group: int
) -> tuple[dict[str, set[str]], set[tuple[str, ...]]]:
    """What an export of an anonymous (unlinked) survey must not show: per attribute,
    the values held by fewer than ``min_group`` rows (with complementary suppression:
    the export's row count is its total), and the combinations of the remaining
    values and the day of the answer that are still that small (two attributes, or an
    attribute and a day, can single a person out).

    >>> from datetime import UTC, datetime
    >>> from cxlab.surveys import parse_definition
    >>> definition = parse_definition({"slug": "s", "title": "S", "attributes": ["dept"],
    ...     "questions": [{"id": "enps", "type": "nps", "label": "eNPS"}]})
    >>> def row(dept):
    ...     return StoredResponse(1, "complete", 1, datetime(2026, 5, 1, tzinfo=UTC),
    ...                           {"dept": dept}, {"enps": 9})
    >>> hidden, _ = small_segments(definition, [row("a")] * 9 + [row("b")] * 2
    ...                            + [row("c")] * 6, 5)
    >>> sorted(hidden["dept"])
    ['b', 'c']
    """
    names = [attribute.name for attribute in definition.attributes]
    counts: dict[str, Counter] = {name: Counter() for name in names}
    combinations: list[tuple[tuple[str, ...], str]] = []
    for row in rows:
        attributes = row.attributes or {}
        values = tuple(str(attributes.get(name, "")) for name in names)
        for name, value in zip(names, values, strict=True):
            counts[name][value] += 1
        combinations.append((values, _day(row)))
    hidden = {name: {str(v) for v in suppressed_groups(counts[name], min_group)}
              for name in names}
    masked = Counter((*_masked(values, names, hidden), day) for values, day in combinations)
    small = {key for key, n in masked.items() if is_small(n, min_group)}
    return hidden, small


def _day(row: StoredResponse) -> str:
    return row.submitted_at.strftime("%Y-%m-%d")


def _masked(values: tuple[str, ...], names: list[str],
            hidden: dict[str, set[str]]) -> tuple[str, ...]:
    return tuple(HIDDEN if value in hidden[name] else value
                 for name, value in zip(names, values, strict=True))


def without_small_segments(
    definition: SurveyDefinition, rows: Iterable[StoredResponse],
    hidden: tuple[dict[str, set[str]], set[tuple[str, ...]]],
) -> Iterator[StoredResponse]:
    """The rows with the attribute values :func:`small_segments` found replaced by
    ``(hidden)``; a row whose combination (with its day) is small loses all its
    attributes; the time of each answer is cut to its day (00:00 UTC). The answers
    are all there: nothing is lost, only the segment and the hour are not shown."""
    by_attribute, small = hidden
    names = [attribute.name for attribute in definition.attributes]
    for row in rows:
        attributes = row.attributes or {}
        values = tuple(str(attributes.get(name, "")) for name in names)
        masked = _masked(values, names, by_attribute)
        if (*masked, _day(row)) in small:
            masked = tuple(HIDDEN for _ in names)
        row = replace(row, submitted_at=row.submitted_at.replace(
            hour=0, minute=0, second=0, microsecond=0))
        if masked != values:
            kept = {name: value for name, value in attributes.items() if name not in names}
            shown = {name: value for name, value in zip(names, masked, strict=True)
                     if value != "" or name in attributes}
            row = replace(row, attributes={**kept, **shown})
        yield row


