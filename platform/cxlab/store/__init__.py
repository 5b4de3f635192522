"""The analytic store: a Hive-partitioned Parquet copy of complete responses that
``cxlab sync`` keeps up to date, and the one way notebooks load data (docs/store.md).

From a database to a frame, end to end (an in-memory database and store):

>>> from cxlab.db import Database
>>> from cxlab.seed import seed_responses
>>> from cxlab.surveys import EXAMPLES_DIR, load_definition
>>> from cxlab.surveys.catalog import publish_survey
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
>>> with database.session() as session:
...     survey = publish_survey(session, create_tenant(session, "acme", "Acme"), definition)
>>> _ = seed_responses(database, survey, definition, 500, seed=1)
>>> sync(database, "memory://cxlab-doc", progress=False).appended
500
>>> frame = load_responses("memory://cxlab-doc", "acme", "store-visit", columns=["nps"])
>>> len(frame), str(frame["nps"].dtype)
(500, 'Int8')
"""

from cxlab.store.columns import ColumnPlan
from cxlab.store.erasure import erase_responses, erase_tenant
from cxlab.store.layout import Store, StoreError, StoreNotFound
from cxlab.store.read import load_responses, survey_definition
from cxlab.store.syncing import PartitionReport, SyncReport, sync
from cxlab.store.verification import Gap, VerifyReport, verify

__all__ = [
    "ColumnPlan",
    "Gap",
    "PartitionReport",
    "Store",
    "StoreError",
    "StoreNotFound",
    "SyncReport",
    "VerifyReport",
    "erase_responses",
    "erase_tenant",
    "load_responses",
    "survey_definition",
    "sync",
    "verify",
]
