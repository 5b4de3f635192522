"""The dashboard's opening view as one finished HTML page, rendered at sync time.

Two hundred store managers opening their dashboards on a Monday morning would need two
hundred kernels. They all see the same opening view (whole period, every segment) until
the next sync, and the sync already saves it as a snapshot, with a PNG of every chart
where this machine can render one (:mod:`cxlab.dashboards.snapshots`,
:mod:`cxlab.dashboards.images`). So the sync also renders that snapshot into a
complete page per language, kept beside it under the same versioned scheme — and one
for each other period over every segment (``Config.dashboard_static_periods``) — and
the dashboard server's prelaunch hook (:mod:`cxlab.dashboards.hook`) answers a valid
token with it: no kernel starts. Its controls are a plain form with a fresh
single-use token: a period alone opens that period's static page, a segment opens the
live (Voila) dashboard at the chosen period and segment.

A chart with its image is that image, and a page whose charts all have one runs no
script. A chart without one carries its figure as a JSON data block, which plotly.js
(served by the dashboard server, as for the live page) draws as the page opens.

The page is built from the snapshot dict generically: each known part in its place
(KPIs first, then trend, drivers, ratings, groups, segments, comments), and any other
HTML part a newer snapshot carries shown too, before the comments.

>>> content = {"figures": {}, "count": 12, "segments": ["s-1"],
...            "kpis": "<div>NPS +10</div>", "comments": "<h3>Comments</h3>"}
>>> [name for name, _ in page_sections(content)]
['kpis', 'comments']
"""

from __future__ import annotations

import base64
import html
import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2

from cxlab.dashboards.fragments import words
from cxlab.dashboards.images import DEFAULT_HEIGHT, PLOTLY_MIMETYPE
from cxlab.dashboards.replies import PORTAL_SLOT, TOKEN_SLOT

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The layout the Voila page uses too (its template includes the same file).
SHARED_CSS = (Path(__file__).resolve().parent / "jupyter" / "voila" / "templates" / "cxlab"
              / "cxlab.css")
# Each section of the page, in order, with the snapshot parts it shows: ("html", key) an
# HTML fragment, ("figure", name) a chart: its still image, or its figure for plotly.js.
SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("kpis", (("html", "kpis"),)),
    ("headline", (("figure", "headline"),)),
    ("trend", (("figure", "trend"),)),
    ("distribution", (("figure", "distribution"),)),
    ("drivers", (("html", "fix_first"), ("figure", "drivers"), ("html", "improvement"))),
    ("ratings", (("figure", "ratings"),)),
    ("groups", (("html", "groups"),)),
    ("segments", (("html", "segments_note"), ("figure", "segments"), ("html", "download"))),
    ("response-rate", (("html", "response_rate"),)),
)
LAST_SECTION = ("comments", (("html", "comments"),))
# Snapshot keys that are not shown as such (bookkeeping, or used elsewhere on the page).
NOT_SHOWN = {"figures", "count", "segments", "layout", "summaries", "version"}
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
    lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def png_size(image: str) -> tuple[int, int]:
    """Width and height of a base64 PNG, from its header (the page reserves its place).

    >>> png_size(base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(8) + struct.pack(">II", 7, 3)))
    (7, 3)
    """
    header = base64.b64decode(image[:32])
    return struct.unpack(">II", header[16:24])


def chart_texts(summaries: str) -> dict[str, str]:
    """Each chart's summary in words (its image's alt text) from the snapshot's hidden
    list (:func:`cxlab.dashboards.fragments.chart_summaries_html`), by section.

    >>> chart_texts('<ul hidden><li data-section="cx-headline">NPS +1 &amp; more</li></ul>')
    {'headline': 'NPS +1 & more'}
    """
    found = re.findall(r'<li data-section="cx-([\w-]+)">(.*?)</li>', summaries or "", re.S)
    return {name: html.unescape(text) for name, text in found}


def page_sections(content: dict[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The page's sections as (name, parts), each part ``{"html": ...}``, ``{"image":
    base64 PNG, "alt": ..., "width": ..., "height": ...}`` or, for a chart without an
    image, ``{"figure": JSON for a data block, "alt": ..., "height": ...}``; sections with
    nothing to show are left out. Parts the layout does not know are shown before the
    comments."""
    figures = content.get("figures") or {}
    texts = chart_texts(content.get("summaries", ""))
    known_html = {key for _, parts in (*SECTIONS, LAST_SECTION) for kind, key in parts
                  if kind == "html"}
    known_figures = {key for _, parts in SECTIONS for kind, key in parts if kind == "figure"}
    extra = tuple((key, (("html", key),)) for key, value in content.items()
                  if key not in known_html | NOT_SHOWN and isinstance(value, str))
    extra += tuple((name, (("figure", name),)) for name in figures if name not in known_figures)
    for name, parts in (*SECTIONS, *extra, LAST_SECTION):
        shown = []
        for kind, key in parts:
            if kind == "html" and content.get(key):
                shown.append({"html": content[key]})
            elif kind == "figure" and key in figures:
                shown.append(chart_part(figures[key]["data"], texts.get(key)))
        if shown:
            yield name, shown


def chart_part(bundle: dict[str, Any], summary: str | None) -> dict[str, Any]:
    """One chart of the page from its output's ``bundle`` (image/png and plotly JSON):
    the image when there is one, else the figure for plotly.js; ``summary`` in words is
    its text alternative (the figure's title without one).

    >>> part = chart_part({PLOTLY_MIMETYPE: {"data": [], "layout": {"title": {
    ...     "text": "</script>"}}}}, None)
    >>> part["alt"], "</script>" in part["figure"], part["height"]
    ('</script>', False, 360)
    """
    figure = bundle.get(PLOTLY_MIMETYPE, {})
    layout = figure.get("layout", {})
    alt = summary or layout.get("title", {}).get("text", "")
    if "image/png" in bundle:
        width, height = png_size(bundle["image/png"])
        return {"image": bundle["image/png"], "alt": alt, "width": width, "height": height}
    # A JSON data block ends at the first "</script" whatever the JSON says: escape "<"
    # (and ">", "&") as JSON does, so no text in a figure can end it.
    block = (json.dumps(figure, ensure_ascii=False).replace("<", "\\u003c")
             .replace(">", "\\u003e").replace("&", "\\u0026"))
    return {"figure": block, "alt": alt, "height": layout.get("height") or DEFAULT_HEIGHT}


def has_every_image(content: dict[str, Any]) -> bool:
    """Whether every chart of the snapshot carries its still image (else its static
    page draws them with plotly.js, and the next sync on a machine that can render
    images makes them).

    >>> has_every_image({"figures": {"trend": {"data": {"text/plain": ""}}}})
    False
    """
    return all("image/png" in output.get("data", {})
               for output in (content.get("figures") or {}).values())


def live_note_key(every_period_static: bool, segment_pages: bool) -> str:
    """The phrase that tells a static page's reader which choices open the live
    dashboard (a few seconds more than a static page).

    >>> live_note_key(True, True), live_note_key(True, False), live_note_key(False, True)
    ('live_note_segment_period', 'live_note_segment', 'live_note')
    """
    if not every_period_static:
        return "live_note"
    return "live_note_segment_period" if segment_pages else "live_note_segment"


def render_static_page(content: dict[str, Any], *, language: str, title: str, as_of: str,
                       notebook: str, periods: list[str],
                       segments: list[tuple[str, str]], attribute_label: str,
                       period: str = "all", segment: str = "",
                       every_period_static: bool = False, segment_pages: bool = False) -> str:
    """The complete page for a snapshot's ``content`` (the view of ``period`` over
    every segment, or over ``segment``), in ``language``.

    ``periods`` are the period keys the live dashboard knows, ``segments`` the (code,
    label) pairs of the survey's first attribute, named ``attribute_label``; with
    ``every_period_static`` the sync rendered every period's page, and with
    ``segment_pages`` one of the whole period for each segment, so the page says what
    still opens the live dashboard. The page
    carries the slots the dashboard server fills per viewer
    (:func:`cxlab.dashboards.replies.static_reply`).
    """
    sections = list(page_sections(content))
    return _environment.get_template("static_page.html.j2").render(
        language=language, title=title, css=SHARED_CSS.read_text(encoding="utf-8"),
        as_of=as_of, notebook=notebook, token_slot=TOKEN_SLOT, portal=PORTAL_SLOT,
        periods=[(key, words(key, language)) for key in periods], period=period,
        period_label=words("period", language), every=words("every", language),
        segments=segments, attribute_label=attribute_label,
        portal_text=words("portal", language), sign_out=words("sign_out", language),
        show=words("show", language), controls_label=words("controls", language),
        results=words("results", language),
        segment=segment, live_note=words(live_note_key(every_period_static, segment_pages),
                                         language, attribute=attribute_label),
        sections=sections, draws_charts=any("figure" in part for _, parts in sections
                                            for part in parts))

