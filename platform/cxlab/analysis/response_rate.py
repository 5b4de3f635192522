"""Response rates: invitations sent, responses received and the rate, by segment; and
how every surface (dashboard, portal, CLI) writes a rate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxlab.analysis._common import require_columns, wilson_interval


def response_rate(
    invitations: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    key: str = "invitation_id",
    ci: float = 0.95,
) -> pd.DataFrame:
    """Invitations sent, responses received and the response rate, overall or by segment.

    Computes rate = responded / sent, where a response counts when its ``key`` matches a
    sent invitation (each invitation counts once); Wilson score interval for the rate.

    Parameters
    ----------
    invitations : one row per invitation sent, with ``key`` and the ``by`` column(s).
    responses : one row per response, with ``key`` (other columns are ignored).
    by : segment column(s) of ``invitations``; None for one overall row.
    key : the column linking a response to its invitation.
    ci : confidence level of ``ci_low``/``ci_high``.

    Returns
    -------
    DataFrame: the ``by`` column(s), ``sent``, ``responded``, ``rate``, ``ci_low``,
    ``ci_high``. A segment with nothing sent has rate NaN.

    Reference: Wilson (1927), JASA 22, 209–212; AAPOR Standard Definitions (RR1 when
    every invitation reached someone eligible).

    Examples
    --------
    >>> sent = pd.DataFrame({"invitation_id": [1, 2, 3, 4], "dept": ["a", "a", "b", "b"]})
    >>> back = pd.DataFrame({"invitation_id": [1, 3, 3]})
    >>> response_rate(sent, back, by="dept")[["dept", "sent", "responded", "rate"]]
      dept  sent  responded  rate
    0    a     2          1   0.5
    1    b     2          1   0.5
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    require_columns(invitations, [key, *keys])
    require_columns(responses, [key])
    frame = invitations[[key, *keys]].drop_duplicates(subset=key).copy()
    frame["responded"] = frame[key].isin(responses[key])
    if keys:
        grouped = frame.groupby(keys, observed=False, sort=True)["responded"]
        table = pd.DataFrame({"sent": grouped.size(), "responded": grouped.sum()}).reset_index()
    else:
        table = pd.DataFrame({"sent": [len(frame)], "responded": [int(frame["responded"].sum())]})
    table["sent"] = table["sent"].astype("int64")
    table["responded"] = table["responded"].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        table["rate"] = table["responded"] / table["sent"].where(table["sent"] > 0)
    table["ci_low"], table["ci_high"] = wilson_interval(table["responded"], table["sent"], ci)
    return table


def format_rate(rate: float | None) -> str:
    """A response rate as every surface shows it: a percentage with one decimal, or an
    en dash where there is none (nothing sent yet, or hidden for anonymity).

    >>> format_rate(0.4567), format_rate(None), format_rate(float("nan"))
    ('45.7%', '–', '–')
    """
    return "–" if rate is None or pd.isna(rate) else f"{float(rate):.1%}"
