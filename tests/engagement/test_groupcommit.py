"""Group commit: concurrent callers share a transaction, each answered after it commits."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from closedloop.engagement.groupcommit import GroupCommit


class FakeDatabase:
    """Transactions as a log of events: savepoints nest inside one outer transaction."""

    def __init__(self, fail_commit: bool = False):
        self.depth = 0
        self.commits = 0
        self.rollbacks = 0
        self.fail_commit = fail_commit
        self.lock = threading.Lock()

    @contextmanager
    def atomic(self):
        self.depth += 1
        try:
            yield
        except BaseException:
            self.rollbacks += 1
            raise
        finally:
            self.depth -= 1
        if self.depth == 0:
            if self.fail_commit:
                raise RuntimeError("disk full")
            self.commits += 1


def test_a_lone_caller_is_its_own_group():
    db = FakeDatabase()
    writer = GroupCommit(atomic=db.atomic)

    assert writer.run(lambda: 42) == 42
    assert (db.commits, writer.groups) == (1, 1)


def test_callers_arriving_together_share_commits_and_all_get_their_values():
    db = FakeDatabase()
    announced = []
    writer = GroupCommit(atomic=db.atomic, after_commit=announced.append)
    results = {}

    def work(n):
        time.sleep(0.01)  # long enough for others to queue up behind the leader
        return n * n

    def caller(n):
        results[n] = writer.run(lambda: work(n))

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert results == {n: n * n for n in range(20)}
    assert db.commits == writer.groups < 20
    assert sorted(v for group in announced for v in group) == sorted(n * n for n in range(20))


def test_a_failing_job_is_rolled_back_alone_and_raises_for_its_caller_only():
    db = FakeDatabase()
    writer = GroupCommit(atomic=db.atomic)

    def bad():
        raise ValueError("malformed")

    try:
        writer.run(bad)
    except ValueError as exc:
        assert str(exc) == "malformed"
    else:
        raise AssertionError("the job's error was swallowed")
    assert writer.run(lambda: "fine") == "fine"
    assert db.rollbacks == 1


def test_a_failed_commit_fails_every_caller_of_the_group_and_announces_nothing():
    db = FakeDatabase(fail_commit=True)
    announced = []
    writer = GroupCommit(atomic=db.atomic, after_commit=announced.append)

    try:
        writer.run(lambda: 1)
    except RuntimeError as exc:
        assert str(exc) == "disk full"
    else:
        raise AssertionError("a failed commit was reported as success")
    assert announced == []
    db.fail_commit = False
    assert writer.run(lambda: 2) == 2  # the writer is not stuck


def test_before_commit_runs_inside_the_groups_transaction_and_feeds_after_commit():
    db = FakeDatabase()
    seen = []
    writer = GroupCommit(
        atomic=db.atomic,
        before_commit=lambda values: seen.append((db.depth, db.commits)) or sum(values),
        after_commit=seen.append,
    )

    assert writer.run(lambda: 5) == 5
    # depth 2: inside its own savepoint of the group's transaction, before any commit.
    assert seen == [(2, 0), 5]
    assert db.commits == 1


def test_a_failing_before_commit_is_rolled_back_alone_and_the_group_still_commits():
    db = FakeDatabase()
    announced = []

    def hook(values):
        raise RuntimeError("queue unavailable")

    writer = GroupCommit(atomic=db.atomic, before_commit=hook, after_commit=announced.append)

    assert writer.run(lambda: 7) == 7
    assert (db.commits, db.rollbacks) == (1, 1)
    assert announced == [[7]]  # the jobs' own values, as without the hook
