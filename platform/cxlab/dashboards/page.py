"""What a dashboard notebook displays: ``build_dashboard`` loads the answers and returns
the :class:`~cxlab.dashboards.widget.Dashboard`, or a :class:`DashboardMessage` when there
is nothing to show (no answers synced yet, the store unreachable).

    board = build_dashboard(Config.from_environ(), "demo", "store-visit", language="ja")
    board.widget
"""

from __future__ import annotations

import html
from datetime import datetime

import ipywidgets as widgets

from cxlab.config import Config
from cxlab.dashboards.data import load_dashboard_data
from cxlab.dashboards.fragments import navigation_html, words
from cxlab.dashboards.widget import Dashboard
from cxlab.errors import CxlabError
from cxlab.i18n import DEFAULT_LANGUAGE, LANGUAGES
from cxlab.store import StoreNotFound


def build_dashboard(
    config: Config,
    tenant: str,
    survey: str | None = None,
    *,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    language: str = "ja",
    demo_fallback: bool = False,
    portal_url: str = "",
    period: str = "all",
    segment: str = "",
    scope: list[str] | None = None,
) -> Dashboard | DashboardMessage:
    """Load ``tenant``'s ``survey`` once and build its dashboard; display ``.widget``.

    A survey with no synced answers, or a store that cannot be read, gives a
    :class:`DashboardMessage` saying so in ``language`` instead of an error. ``period``
    and ``segment`` choose the first view (as the static page's form does); unknown
    values open the whole period for every segment. ``scope`` (a user's unit codes,
    set from their signed token) limits the answers loaded to those units'.
    """
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    try:
        data = load_dashboard_data(config, tenant, survey or None, start=start or None,
                                   end=end or None, demo_fallback=demo_fallback,
                                   background=True, scope=scope)
    except StoreNotFound:
        return DashboardMessage(words("not_synced", language), portal_url, language)
    except (OSError, CxlabError):  # the store, or the database a scope is read from
        return DashboardMessage(words("unreachable", language), portal_url, language)
    return Dashboard(data, language=language, portal_url=portal_url, period=period,
                     segment=segment)


class DashboardMessage:
    """What a dashboard shows instead of figures: no answers yet, or the store
    unreachable; with the way back to the portal."""

    def __init__(self, message: str, portal_url: str = "", language: str = "ja") -> None:
        self.message = message
        self.widget = widgets.VBox([
            widgets.HTML(navigation_html(portal_url, language)).add_class("cx-nav"),
            widgets.HTML(f"<p>{html.escape(message)}</p>").add_class("cx-empty"),
        ]).add_class("cx-dashboard")
