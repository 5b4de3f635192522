"""The client dashboards: one module per part, from the answers to the served page.

- :mod:`~cxlab.dashboards.data` — the answers' numbers, loaded once; comments on demand;
- :mod:`~cxlab.dashboards.fragments` — words, HTML pieces, the CSV download;
- :mod:`~cxlab.dashboards.sections` — each section's HTML from a view, no widgets;
- :mod:`~cxlab.dashboards.view` — ``compute_view``: one period × segment, no widgets;
- :mod:`~cxlab.dashboards.widget` — the ipywidgets page showing a view;
- :mod:`~cxlab.dashboards.page` — what a notebook shows (``build_dashboard``);
- :mod:`~cxlab.dashboards.prepare` — opening views for the sync (from ``view``), warm-up;
- :mod:`~cxlab.dashboards.snapshots` — opening views saved by the sync;
- :mod:`~cxlab.dashboards.images` — still images of the charts for the snapshots;
- :mod:`~cxlab.dashboards.rates` — the e-mail response-rate section;
- :mod:`~cxlab.dashboards.tokens` — single-use signed links from the portal;
- :mod:`~cxlab.dashboards.kernels` — warm kernels, caps, freeing unused ones;
- :mod:`~cxlab.dashboards.hook` — Voila's prelaunch hook and the server.

Nothing is imported here: the survey server needs :mod:`~cxlab.dashboards.tokens`
without pandas or widgets.
"""
