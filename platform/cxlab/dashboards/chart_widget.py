"""A dashboard chart as a widget of its own, updated in place on a filter change.

The dashboard used to show each chart as a plotly output in an ``ipywidgets.Output``;
jupyterlab-plotly then builds a new plot for every filter change, redraws it once more
on its first resize and renders a PNG copy of it for the notebook file: three draws
per chart, 50–110 ms each on two cores, one chart after another (benchmarks/RESULTS.md,
"Where the time of a filter change goes"). :class:`ChartWidget` (an anywidget, its
front end in ``chart_widget.js``) keeps one plot per section and calls ``Plotly.react``
on it: one draw, with plotly.js's diffing. A snapshot's still image (cxlab.dashboards.
images) still shows first, and plotly.js draws when the pointer reaches the chart.

The front end loads plotly.js once per page from the dashboard server, which serves
the file the plotly package ships (``/voila/cxlab/plotly.min.js``, routed in
cxlab.dashboards.hook).

>>> from cxlab.dashboards.fragments import figure_output
>>> import plotly.graph_objects as go
>>> chart = ChartWidget()
>>> chart.show(figure_output(go.Figure(go.Bar(x=[1], y=[2]))))
>>> chart.figure["data"][0]["type"], chart.image, chart.layout.display
('bar', '', None)
>>> chart.show(None)
>>> chart.figure, chart.layout.display
({}, 'none')
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from cxlab.dashboards.images import PLOTLY_MIMETYPE


class ChartWidget(anywidget.AnyWidget):
    """One chart: a plotly figure (data, layout, config) and, optionally, its still
    image (base64 PNG) to show until plotly.js has drawn it."""

    _esm = Path(__file__).with_name("chart_widget.js")
    figure = traitlets.Dict().tag(sync=True)
    image = traitlets.Unicode("").tag(sync=True)

    def show(self, output: dict | None) -> None:
        """Show a chart's display_data ``output`` (as view.compute_view and snapshots
        hold them), or nothing (None): the chart then takes no room."""
        if output is None:
            self.layout.display = "none"
            self.figure = {}
            return
        with self.hold_sync():  # one message: the image must arrive with its figure
            self.image = output["data"].get("image/png", "")
            self.figure = output["data"][PLOTLY_MIMETYPE]
        self.layout.display = None
