"""The weekly report as a PDF, rendered by WeasyPrint from the report's own HTML.

WeasyPrint lays out HTML and CSS (inline SVG charts included) with Pango, which the
machine already has; it needs no browser download. Japanese text needs a CJK font:
CI installs ``fonts-noto-cjk`` (.ci/run), and the style below asks for it first.

>>> pdf = html_pdf("<h1>週次レポート</h1><p>NPS +20.0</p>", title="Demo")
>>> pdf[:5]
b'%PDF-'
"""

from __future__ import annotations

import html

from cxlab.weekly_report import WeeklyReport

STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", sans-serif;
       font-size: 10.5pt; line-height: 1.55; color: #222; }
h1 { font-size: 16pt; margin: 0 0 8pt; }
h2 { font-size: 13pt; margin: 16pt 0 4pt; border-bottom: 1px solid #ccc; }
h3 { font-size: 11pt; margin: 10pt 0 3pt; }
li { margin-bottom: 3pt; }
svg { max-width: 100%; }
"""


def html_pdf(fragment: str, *, title: str = "", language: str = "en") -> bytes:
    """A PDF of an HTML fragment, laid out on A4 with the report's style."""
    from weasyprint import HTML  # imported on use: ~1 s, and only PDF runs need it

    document = (f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>"
                f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
                f"<body>{fragment}</body></html>")
    return HTML(string=document).write_pdf()


def report_pdf(report: WeeklyReport) -> bytes:
    """The whole weekly report as PDF bytes, in the report's language."""
    return html_pdf(report.html(), title=report.heading, language=report.language)
