"""Still images of the dashboard's charts, so a page shows them before plotly.js draws.

The static pages show these images as the charts; the live page's chart widgets
(:mod:`cxlab.dashboards.chart_widget`) show them at once and let plotly.js draw the
interactive chart when the pointer reaches it. Without an image the page waits for
plotly.js to draw all six charts of the overview as it opens (about 2 s on 2 cores with
jupyterlab-plotly, which drew each three times). So the opening-view snapshots that
``cxlab sync`` writes (:mod:`cxlab.dashboards.snapshots`) carry a PNG of each chart,
rendered here by kaleido in a headless Chromium.

``CXLAB_CHART_IMAGES`` (:attr:`cxlab.config.Config.chart_images`, passed down as
``setting``): ``auto`` (default) renders them when kaleido finds Chromium
(``BROWSER_PATH`` or ``chromium`` on PATH) and, for Japanese, a font with Japanese
glyphs (else the image would show empty boxes until the chart is drawn); ``off``
never does. Without images the dashboard is the same, only slower to draw.

>>> images_enabled("en", setting="off")
False
>>> with_image({"data": {"text/plain": "<plotly figure>"}}, "iVBOR")["data"]["image/png"]
'iVBOR'
"""

from __future__ import annotations

import atexit
import base64
import functools
import logging
import os
import shutil
import subprocess
import warnings

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
IMAGE_WIDTH = 1000  # about the width of a chart in the dashboard on a laptop screen
DEFAULT_HEIGHT = 360  # the chart widget's (and jupyterlab-plotly's) when a layout sets none


def browser_path() -> str | None:
    """The Chromium kaleido would drive, or None."""
    return (os.environ.get("BROWSER_PATH") or shutil.which("chromium")
            or shutil.which("chromium-browser") or shutil.which("google-chrome"))


@functools.cache
def has_japanese_font() -> bool:
    """Whether fontconfig knows a font with Japanese glyphs (e.g. fonts-noto-cjk)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    try:
        found = subprocess.run([fc_list, ":lang=ja", "family"], capture_output=True,
                               text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.strip())


def images_enabled(language: str, setting: str = "auto") -> bool:
    """Whether charts in ``language`` get a PNG under ``setting`` (the configuration's
    ``chart_images``: "auto" or "off") on this machine."""
    if setting == "off" or _broken is not None or browser_path() is None:
        return False
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return language != "ja" or has_japanese_font()


class ChromiumFarewellFilter(logging.Filter):
    """Drops choreographer's "JSONError decoding message" when the message was
    Chromium's ``{bye}``: as Chromium exits (at our exit) that word can arrive in one read
    with another message, choreographer then logs it as undecodable JSON with a
    traceback and ignores it. Harmless, but it reads like a crash at the end of every
    command that rendered images; any other undecodable message is still logged.

    >>> record = logging.LogRecord("choreographer", logging.ERROR, "", 0, "x", None, None)
    >>> ChromiumFarewellFilter().filter(record)
    True
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        document = getattr(getattr(error, "__cause__", None), "doc", None)
        return not (isinstance(document, str) and document.strip() == "{bye}")


_started = False
_broken: str | None = None  # why rendering failed in this process; not retried until restart


def _start_renderer() -> None:
    """One headless Chromium for this process (stopped at exit): starting it costs
    about 2 s, each image after that 0.1–0.3 s."""
    global _started
    if _started:
        return
    import kaleido

    os.environ.setdefault("BROWSER_PATH", browser_path() or "")
    logging.getLogger("choreographer.channels.pipe").addFilter(ChromiumFarewellFilter())
    # mathjax=False: the charts use no LaTeX, and kaleido would fetch MathJax from a CDN.
    kaleido.start_sync_server(n=1, mathjax=False, silence_warnings=True)
    atexit.register(kaleido.stop_sync_server, silence_warnings=True)
    _started = True


def png_base64(figure: dict) -> str:
    """``figure`` (plotly JSON: data and layout) as a base64 PNG."""
    import plotly.io

    _start_renderer()
    layout = figure.get("layout", {})
    with warnings.catch_warnings():
        # plotly warns that per-call kaleido options are ignored when a server runs.
        warnings.simplefilter("ignore", UserWarning)
        png = plotly.io.to_image({"data": figure.get("data", []), "layout": layout},
                                 format="png", width=IMAGE_WIDTH,
                                 height=layout.get("height") or DEFAULT_HEIGHT)
    return base64.b64encode(png).decode()


def with_image(output: dict, image: str) -> dict:
    """A copy of a display_data ``output`` that also carries ``image`` (base64 PNG)."""
    return {**output, "data": {**output["data"], "image/png": image}}


def add_images(outputs: dict[str, dict], language: str,
               setting: str = "auto") -> dict[str, dict]:
    """``outputs`` (plotly display_data outputs by section) with a PNG each, when
    :func:`images_enabled` for ``language`` and ``setting``; unchanged otherwise."""
    if not images_enabled(language, setting):
        return outputs
    try:
        return {name: with_image(output, png_base64(output["data"][PLOTLY_MIMETYPE]))
                for name, output in outputs.items()}
    except Exception as error:  # noqa: BLE001 - a browser that fails to start, or a crash
        # The images only make the page quicker to draw: save the snapshot without them,
        # and stop trying (a scheduler would otherwise retry and warn every minute).
        global _broken
        _broken = f"{type(error).__name__}: {error}"
        warnings.warn(f"chart images skipped: kaleido could not render them "
                      f"({type(error).__name__}: {error}); check that {browser_path()} "
                      "starts headless, or set CXLAB_CHART_IMAGES=off", stacklevel=2)
        return outputs
