"""The client dashboards: one module per part, from the answers to the served page.

- :mod:`~cxlab.dashboards.data` — the answers a page shows, loaded once;
- :mod:`~cxlab.dashboards.fragments` — words, HTML pieces, the CSV download;
- :mod:`~cxlab.dashboards.sections` — each section's HTML from a view, no widgets;
- :mod:`~cxlab.dashboards.widget` — the ipywidgets page over them;
- :mod:`~cxlab.dashboards.page` — what a notebook shows (``build_dashboard``);
- :mod:`~cxlab.dashboards.prepare` — opening views for the sync, the kernels' warm-up;
- :mod:`~cxlab.dashboards.snapshots` — opening views saved by the sync;
- :mod:`~cxlab.dashboards.images` — still images of the charts for the snapshots;
- :mod:`~cxlab.dashboards.rates` — the e-mail response-rate section;
- :mod:`~cxlab.dashboards.tokens` — single-use signed links from the portal;
- :mod:`~cxlab.dashboards.kernels` — warm kernels, caps, freeing unused ones;
- :mod:`~cxlab.dashboards.hook` — Voila's prelaunch hook and the server.

Nothing is imported here: the survey server needs :mod:`~cxlab.dashboards.tokens`
without pandas or widgets.
"""
