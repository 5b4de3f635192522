"""Small-group suppression: no surface shows a group of fewer than ``min_group``
answers, and two shown numbers cannot be subtracted to reveal a hidden one.

The rules (docs/security.md explains them with examples):

1. **Primary suppression.** A group with ``0 < n < min_group`` answers is hidden:
   its count, its scores and its comments.
2. **Complementary suppression for tables with a total.** When a table's groups add up
   to a total that is shown elsewhere (the survey's answer count, a distribution's
   summary), hiding one group is not enough: total minus the shown groups is the
   hidden one. So while the hidden groups are a single group, or add up to fewer than
   ``min_group``, the smallest shown group is hidden as well.
3. **Filtered views.** A view that is a part of a shown whole (one store, a date
   window, "everyone but sales") is shown only when it has at least ``min_group``
   answers *and* the rest of the whole has none or at least ``min_group``; otherwise
   whole minus view would reveal a small group (:func:`may_show_part`).

>>> sorted(suppressed_groups({"sales": 40, "hr": 3, "it": 12}, 5))
['hr', 'it']
>>> sorted(suppressed_groups({"sales": 40, "hr": 3, "it": 4, "ops": 9}, 5))
['hr', 'it']
>>> may_show_part(50, 52, 5), may_show_part(50, 60, 5), may_show_part(4, 60, 5)
(False, True, False)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any


def is_small(n: int, min_group: int) -> bool:
    """Whether a group of ``n`` answers must be hidden (an empty group hides nobody).

    >>> is_small(3, 5), is_small(0, 5), is_small(5, 5)
    (True, False, False)
    """
    return 0 < n < min_group


def suppressed_groups(
    counts: Mapping[Hashable, int], min_group: int, *, total_shown: bool = True
) -> set[Hashable]:
    """The groups of a table to hide: primary suppression, then (when the table's
    total is shown anywhere) complementary suppression of the smallest shown groups
    until the hidden ones are at least two and add up to at least ``min_group``.

    >>> sorted(suppressed_groups({"a": 10, "b": 2}, 5))  # b alone: total − a = b
    ['a', 'b']
    >>> suppressed_groups({"a": 10, "b": 2}, 5, total_shown=False)
    {'b'}
    >>> suppressed_groups({"a": 10, "b": 20}, 5)
    set()
    """
    hidden = {group for group, n in counts.items() if is_small(n, min_group)}
    if not total_shown or not hidden:
        return hidden
    shown = sorted(
        ((n, str(group), group) for group, n in counts.items() if group not in hidden and n > 0),
    )
    while shown and (len(hidden) < 2 or sum(counts[g] for g in hidden) < min_group):
        hidden.add(shown.pop(0)[2])
    return hidden


def may_show_part(part: int, whole: int, min_group: int) -> bool:
    """Whether a filtered view of ``part`` answers out of a shown ``whole`` may be
    shown: it is large enough, and so is what the filter left out (or that is empty)."""
    rest = whole - part
    return part >= min_group and (rest == 0 or rest >= min_group)


def suppress_table(
    table: Any, group_column: str, count_column: str, min_group: int,
    value_columns: list[str], *, total_shown: bool = True,
) -> Any:
    """A copy of a pandas table (one row per group) with the counts and values of
    suppressed groups blanked (NA) and a boolean ``suppressed`` column.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"dept": ["a", "b", "c"], "n": [30, 3, 9],
    ...                       "nps": [10.0, -5.0, 20.0]})
    >>> print(suppress_table(table, "dept", "n", 5, ["nps"]))
      dept     n   nps  suppressed
    0    a    30  10.0       False
    1    b  <NA>   NaN        True
    2    c  <NA>   NaN        True
    """
    counts = {row_group: int(n) for row_group, n in zip(
        table[group_column], table[count_column].fillna(0), strict=True)}
    hidden = suppressed_groups(counts, min_group, total_shown=total_shown)
    safe = table.copy()
    mask = safe[group_column].isin(hidden)
    safe[count_column] = safe[count_column].astype("Int64").mask(mask)
    for column in value_columns:
        safe[column] = safe[column].mask(mask)
    safe["suppressed"] = mask
    return safe
