"""Group commit: concurrent requests of one process share one database transaction.

A durable commit costs a flush to disk, and with SQLite's write-ahead log it also writes every
index page the transaction touched; both are paid per commit, not per row. When several
tracking requests arrive together, the first becomes the leader: it runs its own work and the
work of everyone waiting, each in its own savepoint, commits once, and wakes them. Requests
that arrive meanwhile wait and form the next group. Nobody is answered before their rows are
committed, and with one request at a time a group is just that request: no delay is added.

This is the group commit that databases do inside their own log, done one level up because
SQLite has none; it is not a queue: nothing outlives the requests that brought it
(docs/decisions/0005-tracking-ingestion.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


class _Job:
    __slots__ = ("work", "woken", "done", "value", "error")

    def __init__(self, work: Callable[[], Any]):
        self.work = work
        self.woken = threading.Event()
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class GroupCommit:
    """Run `work` callables in shared transactions; `run` returns once its work is committed.

    `after_commit(values)` is called by the leader with the return values of a committed
    group's successful jobs, after their requests have been woken (so a slow listener delays
    no answer). `before_commit(values)`, when given, runs inside the group's transaction after
    its jobs, in a savepoint of its own (if it raises, only its writes are rolled back and the
    group still commits): work that should share the group's one commit. Its return value is
    what `after_commit` then receives in place of the values (the values themselves if it
    failed). `atomic` is the transaction
    factory; tests may pass a stand-in.
    """

    def __init__(
        self,
        *,
        after_commit: Callable[[Any], None] | None = None,
        before_commit: Callable[[list[Any]], Any] | None = None,
        atomic: Callable[[], AbstractContextManager] = transaction.atomic,
    ):
        self._after_commit = after_commit
        self._before_commit = before_commit
        self._atomic = atomic
        self._lock = threading.Lock()
        self._waiting: list[_Job] = []
        self._leading = False
        self.groups = 0  # committed groups, for tests and curiosity

    def run(self, work: Callable[[], Any]) -> Any:
        """Run `work` (which uses the database) in the next group; returns its value or
        raises its exception. A failing job is rolled back alone (savepoint); a failing commit
        fails the whole group."""
        job = _Job(work)
        with self._lock:
            self._waiting.append(job)
            leads = not self._leading
            self._leading = True
        if not leads:
            job.woken.wait()
            if job.done:
                return job.outcome()
        self._lead()
        return job.outcome()

    def _lead(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        committed = False
        try:
            with self._atomic():
                for job in group:
                    self._run_one(job)
                values = self._prepare_commit(group)
            committed = True
        except BaseException as exc:
            for job in group:
                if job.error is None:
                    job.error, job.value = exc, None
        finally:
            self._hand_over(group)
        if committed and self._after_commit is not None:
            self._after_commit(values)

    def _prepare_commit(self, group: list[_Job]) -> Any:
        values = [job.value for job in group if job.error is None]
        if self._before_commit is None:
            return values
        try:
            with self._atomic():
                return self._before_commit(values)
        except Exception:
            # Its writes are undone by the savepoint; the jobs' own rows still commit.
            logger.exception("group commit: the before_commit hook failed")
            return values

    def _run_one(self, job: _Job) -> None:
        try:
            with self._atomic():  # a savepoint: one bad job does not spoil the group
                job.value = job.work()
        except Exception as exc:
            job.error = exc

    def _hand_over(self, group: list[_Job]) -> None:
        with self._lock:
            self.groups += 1
            successor = self._waiting[0] if self._waiting else None
            if successor is None:
                self._leading = False
        for job in group:
            job.done = True
            job.woken.set()
        if successor is not None:
            successor.woken.set()  # not done: it leads the next group
