"""A short-lived, per-process cache of what every request looks up: the tenant of an
API key and the survey (with its parsed definition) a request names.

These rows change rarely, but reading them took half of each ingestion request's time.
They are kept for ``ttl`` seconds (default 5), so a revoked key, a closed survey or a
new version takes effect within that time on every worker. Only found rows are
cached: a key or survey created a moment ago works at once.

>>> from cxlab.db import Database
>>> lookups = Lookups(Database("sqlite://"), ttl=5)
>>> lookups.ttl
5
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cxlab import auth
from cxlab.db import Database
from cxlab.db.models import Survey
from cxlab.errors import NotFound
from cxlab.surveys.catalog import definition_of, get_survey, get_survey_by_id
from cxlab.surveys.definition import SurveyDefinition
from cxlab.tenancy import ApiKeyOwner, authenticate_api_key, get_tenant

DEFAULT_TTL_SECONDS = 5
MAX_ENTRIES = 20_000
T = TypeVar("T")


@dataclass(frozen=True)
class SurveyLookup:
    """A survey row (detached, read-only) with its parsed definition."""

    survey: Survey
    definition: SurveyDefinition


class Lookups:
    def __init__(self, database: Database, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self.database = database
        self.ttl = ttl
        # key -> (expiry on the monotonic clock, value). A plain dict: a lookup is one
        # get() and a clock read, atomic under the GIL, where cachetools' TTLCache
        # needed a lock and cost more than the rest of the authorisation.
        self._cache: dict[tuple, tuple[float, object]] = {}

    def _cached(self, key: tuple, load: Callable[[], T | None]) -> T | None:
        now = time.monotonic()
        found = self._cache.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = load()
        if value is not None:
            if len(self._cache) >= MAX_ENTRIES:
                self._forget_expired(now)
            self._cache[key] = (now + self.ttl, value)
        return value

    def _forget_expired(self, now: float) -> None:
        # Rare (a full cache): drop what has expired, or everything if none has.
        expired = [key for key, (expiry, _) in list(self._cache.items()) if expiry <= now]
        for key in expired or list(self._cache):
            self._cache.pop(key, None)

    def api_key_owner(self, plaintext: str) -> ApiKeyOwner | None:
        """The owner of a valid key, else None. Keyed by the key's hash, not the key."""

        def load() -> ApiKeyOwner | None:
            with self.database.session() as session:
                return authenticate_api_key(session, plaintext)

        return self._cached(("key", auth.hash_api_key(plaintext)), load)

    def survey_by_id(self, tenant_id: int, survey_id: int) -> SurveyLookup:
        """The tenant's survey ``survey_id``; raises NotFound for another tenant's."""

        def load() -> SurveyLookup:
            with self.database.session() as session:
                survey = get_survey_by_id(session, tenant_id, survey_id)
            return SurveyLookup(survey, definition_of(survey))

        return self._cached(("survey-id", tenant_id, survey_id), load)

    def survey_by_slug(self, tenant_slug: str, survey_slug: str) -> SurveyLookup:
        """The survey of an open link; raises NotFound when tenant or survey is unknown."""

        def load() -> SurveyLookup:
            with self.database.session() as session:
                survey = get_survey(session, get_tenant(session, tenant_slug), survey_slug)
            return SurveyLookup(survey, definition_of(survey))

        return self._cached(("survey-slug", tenant_slug, survey_slug), load)

    def forget_surveys(self) -> None:
        """Drop this worker's cached surveys, after a change made through it (others
        see a change within ``ttl``)."""
        for key in [key for key in list(self._cache) if key[0].startswith("survey")]:
            self._cache.pop(key, None)


__all__ = ["Lookups", "NotFound", "SurveyLookup"]
