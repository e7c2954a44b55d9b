"""Scoreboard snapshots: figures computed by the worker, read by pages in milliseconds.

A request never computes the scoreboard. It reads the snapshot of its scope and period: first
from the cache (shared when CLOSEDLOOP_CACHE_URL points at Redis), then from the
`ScoreboardSnapshot` table, which every process shares and which survives a restart (a cold
start serves the last figures at once). A missing snapshot is queued for the worker and the
page says so; `refresh_scoreboards` (periodic, `core/schedule.py`) recomputes the standard
periods of every scope. Decision 0022.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from closedloop.analytics.models import ScoreboardSnapshot
from closedloop.analytics.scope import COMPANY, Scope
from closedloop.analytics.scoreboard import compute_scoreboard
from closedloop.core.models import Team

CACHE_SECONDS = 300
QUEUED_SECONDS = 600
# How often the worker recomputes the standard periods.
REFRESH_EVERY = timedelta(minutes=15)


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    @property
    def label(self) -> str:
        last = (self.until - timedelta(days=1)).date()
        return f"{self.since.date():%Y-%m-%d} – {last:%Y-%m-%d}"


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def this_quarter(today: date | None = None) -> Period:
    """From the first day of the current quarter to the end of today (UTC)."""
    today = today or timezone.now().date()
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return Period(day_start(first), day_start(today) + timedelta(days=1))


def last_days(days: int, today: date | None = None) -> Period:
    today = today or timezone.now().date()
    return Period(day_start(today - timedelta(days=days - 1)), day_start(today) + timedelta(days=1))


def standard_periods(today: date | None = None) -> dict[str, Period]:
    """The periods the worker keeps fresh: the page's choices besides a custom range."""
    return {
        "quarter": this_quarter(today),
        "last_30": last_days(30, today),
        "last_90": last_days(90, today),
    }


def snapshot_key(scope: Scope, period: Period) -> str:
    return f"{scope.key}|{period.since:%Y%m%d}|{period.until:%Y%m%d}"


def read_snapshot(scope: Scope, period: Period) -> dict | None:
    """The stored figures of `scope` and `period`, or None (then one computation is queued)."""
    key = snapshot_key(scope, period)
    found = cache.get(f"scoreboard:{key}")
    if found is None:
        row = ScoreboardSnapshot.objects.filter(key=key).values_list("figures", flat=True).first()
        if row is not None:
            found = row
            cache.set(f"scoreboard:{key}", found, CACHE_SECONDS)
    if found is None and queue_snapshot(scope, period):
        # The in-process task backend (tests, small installs) has computed it already.
        found = cache.get(f"scoreboard:{key}")
    return found


def queue_snapshot(scope: Scope, period: Period) -> bool:
    """Queue one computation of this snapshot unless one is already queued; True if queued."""
    from closedloop.analytics.tasks import compute_snapshot

    key = snapshot_key(scope, period)
    if not cache.add(f"scoreboard:queued:{key}", True, QUEUED_SECONDS):
        return False
    compute_snapshot.enqueue(
        scope.team_id, scope.owner_id, period.since.isoformat(), period.until.isoformat()
    )
    return True


def store_snapshot(
    scope: Scope, period: Period, *, history: dict | None = None
) -> ScoreboardSnapshot:
    """Compute and store the figures of `scope` and `period` (the worker's job)."""
    started = time.perf_counter()
    figures = compute_scoreboard(
        scope=scope, since=period.since, until=period.until, history=history
    )
    key = snapshot_key(scope, period)
    snapshot, _ = ScoreboardSnapshot.objects.update_or_create(
        key=key,
        defaults={
            "scope": scope.key,
            "since": period.since,
            "until": period.until,
            "computed_at": timezone.now(),
            "seconds": time.perf_counter() - started,
            "figures": figures,
        },
    )
    cache.set(f"scoreboard:{key}", figures, CACHE_SECONDS)
    cache.delete(f"scoreboard:queued:{key}")
    return snapshot


def every_scope() -> list[Scope]:
    """The company and each team: the scopes nearly every user reads."""
    return [COMPANY, *(Scope(team_id=pk) for pk in Team.objects.values_list("pk", flat=True))]


def refresh_all(today: date | None = None) -> int:
    """Recompute every standard period of every scope; drop snapshots of bygone periods."""
    periods = list(standard_periods(today).values())
    count = 0
    for scope in every_scope():
        history = None  # measured once per scope: the same for every period
        for period in periods:
            history = store_snapshot(scope, period, history=history).figures["history"]
            count += 1
    cutoff = timezone.now() - timedelta(days=7)
    ScoreboardSnapshot.objects.filter(computed_at__lt=cutoff).delete()
    return count
