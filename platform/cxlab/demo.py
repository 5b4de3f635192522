"""Demo data for notebooks, tests and benchmarks.

A notebook run where no ``cxlab demo`` has synced data (a fresh checkout, CI) asks
:func:`demo_config` for a small private store instead, so every notebook runs with its
default parameters anywhere (:func:`cxlab.notebook_data.demo_stand_in` decides when):

>>> from cxlab.store import Store
>>> config = demo_config(responses=300)
>>> Store.of(config).surveys(DEMO_TENANT)
['store-visit']
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime

from cxlab.config import Config

DEMO_TENANT = "demo"
DEMO_SURVEY = "store-visit"
# The private demo store's answers end on a fixed day, so that doctests and notebook
# outputs over it are the same whenever they run (`cxlab demo` seeds up to now).
DEMO_STORE_END = datetime(2026, 11, 1, tzinfo=UTC)


def seed_store(
    config: Config, tenants: dict[str, int], *, survey_file: str = "restaurant_visit.yaml",
    seed: int = 0, on_progress: Callable[[int], None] | None = None,
    end: datetime | None = None,
) -> None:
    """Create each tenant with the example survey, seed ``tenants[slug]`` responses and
    sync them to ``config``'s store (demo, tests and the dashboard benchmark). The
    answers span the 90 days up to ``end`` (default: now)."""
    from cxlab.db import Database
    from cxlab.seed import seed_responses
    from cxlab.store import sync
    from cxlab.surveys import EXAMPLES_DIR, load_definition
    from cxlab.surveys.catalog import publish_survey
    from cxlab.tenancy import create_tenant

    with Database.open(config, must_be_migrated=False) as database:
        database.migrate()
        definition = load_definition(EXAMPLES_DIR / survey_file)
        for number, (slug, responses) in enumerate(tenants.items()):
            with database.session() as session:
                survey = publish_survey(session, create_tenant(session, slug, slug.title()),
                                        definition)
            seed_responses(database, survey, definition, responses, seed=seed + number,
                        on_progress=on_progress, end=end)
        sync(database, config, progress=False)


@functools.cache
def _demo_store(responses: int) -> tuple[tempfile.TemporaryDirectory, Config]:
    folder = tempfile.TemporaryDirectory(prefix="cxlab-demo-")
    # The demo's few answers are opened by one person: only the opening static page.
    config = Config.from_environ({"CXLAB_VAR_DIR": folder.name, "CXLAB_ENV": "test",
                                  "CXLAB_DASHBOARD_STATIC_PERIODS": "all",
                                  "CXLAB_DASHBOARD_STATIC_SEGMENTS": "0"})
    seed_store(config, {DEMO_TENANT: responses}, end=DEMO_STORE_END)
    # The TemporaryDirectory is returned so the cache keeps it (and its files) alive.
    return folder, config


def demo_config(responses: int = 3000) -> Config:
    """A private, temporary store holding the demo tenant's restaurant survey, seeded
    once per process; for notebooks run where no ``cxlab demo`` has synced data."""
    return _demo_store(responses)[1]


def notebook_config() -> Config:
    """The old name of :meth:`Config.for_notebook`, kept for notebooks copied before the
    rename (``from cxlab.demo import notebook_config``)."""
    return Config.for_notebook()
