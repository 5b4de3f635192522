"""Which data a notebook run by hand analyses: a tenant and survey the store holds, or
the seeded demo tenant when asked for — never the demo in place of a mistyped name.

A consultant who runs ``papermill explore.ipynb -p tenant demo-wroks`` must get an
error naming the tenants that exist, not a page of seeded demo figures that look real:

>>> from cxlab.demo import demo_config
>>> store = demo_config(responses=300)
>>> for tenant, survey in (("demo-wroks", None), ("demo", "store-vist")):
...     try:
...         choose_data(tenant, survey, config=store)
...     except CxlabError as error:
...         print(error)  # doctest: +NORMALIZE_WHITESPACE
unknown tenant 'demo-wroks' (did you mean 'demo'?); the store holds: demo
tenant 'demo' has no survey 'store-vist' (did you mean 'store-visit'?);
its surveys: store-visit
>>> choose_data("demo", config=store).tenant
'demo'

Where the seeded demo may stand in for missing data (``demo=True`` here, a dashboard's
``demo_fallback`` in JupyterLab), :func:`demo_stand_in` decides, in one place.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from cxlab.config import Config
from cxlab.demo import DEMO_SURVEY, DEMO_TENANT, demo_config
from cxlab.errors import CxlabError
from cxlab.store import Store


@dataclass(frozen=True)
class NotebookData:
    """The store (``config``), tenant and survey a notebook analyses; ``demo`` says
    whether they are the seeded demo store."""

    config: Config
    tenant: str
    survey: str | None
    demo: bool


def choose_data(
    tenant: str, survey: str | None = None, *, demo: bool = False, config: Config | None = None
) -> NotebookData:
    """The data for ``tenant`` (and ``survey``) in the store of ``config`` (default: the
    notebook's, :meth:`cxlab.config.Config.for_notebook`).

    ``demo=True`` asks for the seeded demo tenant ("demo", survey "store-visit"): when
    ``tenant`` is the demo tenant and the store does not hold it (a fresh checkout, CI),
    a private demo store is seeded. It never replaces another tenant: an unknown tenant
    or survey raises :class:`~cxlab.errors.CxlabError` listing what the store holds
    (with the closest name), so a typo cannot pass for an analysis.
    """
    config = config or Config.for_notebook()
    if demo and tenant == DEMO_TENANT:
        stand_in = demo_stand_in(config, tenant)
        if stand_in is not None:
            return replace(stand_in, survey=survey or DEMO_SURVEY)
    store = Store.of(config)
    tenants = sorted({t for t, _ in store.partitions()})
    if tenant not in tenants:
        listed = ", ".join(tenants) or "no tenant yet (run `cxlab sync`, or demo=True)"
        raise CxlabError(f"unknown tenant {tenant!r}{_closest(tenant, tenants)}; the store "
                         f"holds: {listed}")
    surveys = store.surveys(tenant)
    if survey is not None and survey not in surveys:
        raise CxlabError(f"tenant {tenant!r} has no survey {survey!r}"
                         f"{_closest(survey, surveys)}; its surveys: {', '.join(surveys)}")
    return NotebookData(config, tenant, survey, False)


def demo_stand_in(config: Config, tenant: str, survey: str | None = None) -> NotebookData | None:
    """The seeded demo (a private store, tenant "demo", survey "store-visit") when the
    store of ``config`` holds no ``tenant`` (or not its ``survey``); None when it does.

    Only where a person asked for it: never when serving clients, who see their own
    data or nothing.

    >>> store = demo_config(responses=300)
    >>> demo_stand_in(store, "demo", "store-visit") is None  # held: no stand-in
    True

    For ``"acme"`` that store holds nothing, and the demo (3,000 answers, seeded once
    per process) would stand in: ``demo_stand_in(store, "acme").tenant == "demo"``.
    """
    held = Store.of(config).surveys(tenant)
    if held and (survey is None or survey in held):
        return None
    return NotebookData(demo_config(), DEMO_TENANT, DEMO_SURVEY, True)


def _closest(name: str, names: list[str]) -> str:
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""
