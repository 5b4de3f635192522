"""Group commit: the writes of a worker's concurrent requests share one transaction.

Each request that stores an answer hands :meth:`GroupCommit.run` a *job*, a function
of an open session (``lambda session: record_response(session, ...)``). The first
request to arrive becomes the *leader*: it takes every job queued so far, runs them
in one transaction (under the SQLite write gate), commits, and only then wakes their
requests with their results. Jobs that arrive meanwhile wait for the next batch, led
by one of them. So every reply is still sent after the commit that stored its answer,
but a busy worker pays for one transaction and one WAL commit per batch instead of
per answer.

A request may instead hand :meth:`GroupCommit.run_together` an *item* and a *batch
job*, a function of a Core connection and a list of items that returns one result per
item: the items of one batch that share a batch job go to one call of it. New answers
use it to be stored with one multi-row INSERT per batch and no ORM session
(:func:`cxlab.new_responses.store_new_responses`).

Failures keep each request's own outcome:

* a job that raises (an idempotency conflict, an invitation answered already, a value
  the database refuses) rolls its batch back, and each job of the batch is then run
  alone in its own transaction, so only that request sees its error;
* a batch whose transaction fails for a reason no retry would fix at once (database
  locked, unreachable, disk full: ``OperationalError``, a pool timeout) gives every
  request of the batch that error, which the app answers with 503 ``Retry-After``;
  nothing of the batch is acknowledged or stored.

>>> from cxlab.db import Database, text
>>> from survey_server.context import SqliteWriteGate
>>> group = GroupCommit(Database("sqlite://"), SqliteWriteGate(None))
>>> group.run(lambda session: session.scalar(text("select 41 + 1")))
42
>>> group.run_together(lambda connection, items: [n * 2 for n in items], 21)
42
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from cxlab.db import Database, session_on
from sqlalchemy import Connection
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from survey_server.context import SqliteWriteGate

T = TypeVar("T")
Item = TypeVar("Item")
# Enough to amortise a commit over a worker's threads; small enough that one batch's
# transaction stays short for the other worker waiting at the write gate.
MAX_BATCH = 64
# Failures of the transaction itself, shared by every job in it.
SHARED_FAILURES = (DBAPIError, PoolTimeout)
# ... except these, which a single job's values cause.
OWN_FAILURES = (DataError, IntegrityError)


def _each(connection: Connection, jobs: list[Callable[[Session], Any]]) -> list[Any]:
    """The batch job of :meth:`GroupCommit.run`'s plain jobs: each called in turn with
    a session in the batch's transaction."""
    with session_on(connection) as session:
        return [job(session) for job in jobs]


class _Waiter:
    """One request's item and batch job, and what it is told once its batch is done."""

    __slots__ = ("batch_job", "item", "woken", "finished", "leads", "result", "error")

    def __init__(self, batch_job: Callable[[Connection, list[Any]], list[Any]], item: Any) -> None:
        self.batch_job = batch_job
        self.item = item
        self.woken = threading.Event()
        self.finished = False
        self.leads = False  # handed the leadership while it waited
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs the write jobs of one worker's threads in shared transactions."""

    def __init__(
        self, database: Database, write_gate: SqliteWriteGate, max_batch: int = MAX_BATCH
    ) -> None:
        self.database = database
        self.write_gate = write_gate
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._leader: _Waiter | None = None
        self.batches = 0  # transactions committed, for tests and benchmarks
        self.jobs = 0

    def run(self, job: Callable[[Session], T]) -> T:
        """Run ``job(session)`` in a committed transaction; return its result once the
        transaction has committed, or raise what the job or the commit raised."""
        return self.run_together(_each, job)

    def run_together(
        self, batch_job: Callable[[Connection, list[Item]], list[T]], item: Item
    ) -> T:
        """Store ``item`` in a committed transaction through ``batch_job``, which is
        called once with every item of the transaction that names the same function
        and returns their results in order; return this item's result once the
        transaction has committed, or raise what the batch job or the commit raised.
        A batch job that raises is retried with each of its items alone, so only the
        item at fault fails."""
        waiter = _Waiter(batch_job, item)
        with self._lock:
            self._queue.append(waiter)
            if self._leader is None:
                self._leader = waiter
                waiter.leads = True
        while not waiter.leads and not waiter.finished:
            waiter.woken.wait()
            waiter.woken.clear()
        if not waiter.finished:
            self._lead(waiter)
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def _lead(self, leader: _Waiter) -> None:
        """Commit batches until the leader's own job is done, then pass the lead on."""
        try:
            while not leader.finished:
                with self._lock:
                    batch = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                self._commit(batch)
        finally:
            with self._lock:
                # Anyone queued meanwhile is led by the first of them; else no leader.
                self._leader = self._queue[0] if self._queue else None
                if self._leader is not None:
                    self._leader.leads = True
                    self._leader.woken.set()

    def _commit(self, batch: list[_Waiter]) -> None:
        try:
            try:
                results = self._transaction(batch)
            except OWN_FAILURES:
                self._one_by_one(batch)
            except SHARED_FAILURES as error:
                self._fail(batch, error)
            except Exception:  # noqa: BLE001 - a job's own error: told to that job alone
                self._one_by_one(batch)
            else:
                for waiter, result in zip(batch, results, strict=True):
                    waiter.result = result
                self.batches += 1
                self.jobs += len(batch)
        except BaseException as error:  # e.g. KeyboardInterrupt: no waiter may hang
            self._fail([w for w in batch if not w.finished], error)
            raise
        finally:
            for waiter in batch:
                waiter.finished = True
                waiter.woken.set()

    def _transaction(self, batch: list[_Waiter]) -> list[Any]:
        results: list[Any] = [None] * len(batch)
        places: dict[Callable, list[int]] = {}  # batch job -> places of its items
        for place, waiter in enumerate(batch):
            places.setdefault(waiter.batch_job, []).append(place)
        with self.write_gate.writing(), self.database.transaction() as connection:
            for batch_job, places_of_job in places.items():
                outcomes = batch_job(connection, [batch[place].item for place in places_of_job])
                for place, outcome in zip(places_of_job, outcomes, strict=True):
                    results[place] = outcome
        return results

    def _one_by_one(self, batch: list[_Waiter]) -> None:
        """After a batch failed on one job: each job alone, each told its own outcome."""
        for waiter in batch:
            try:
                (waiter.result,) = self._transaction([waiter])
                self.batches += 1
                self.jobs += 1
            except Exception as error:  # noqa: BLE001 - handed to the job's own request
                waiter.error = error

    @staticmethod
    def _fail(batch: list[_Waiter], error: BaseException) -> None:
        for waiter in batch:
            waiter.error = error
