"""Background work of analytics: scoreboard snapshots and the weekly scoreboard email.

Periodic tasks re-enqueue themselves with `run_after` when the backend can defer (database
and RQ backends); the in-process backend used by tests runs them once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource

SCOREBOARD_EMAIL_EVERY = timedelta(days=7)


@task()
def compute_snapshot(team_id: int | None, owner_id: int | None, since: str, until: str) -> float:
    """Compute one scoreboard snapshot (a page asked for it); returns the seconds it took."""
    from closedloop.analytics.scope import Scope
    from closedloop.analytics.snapshots import Period, store_snapshot

    period = Period(datetime.fromisoformat(since), datetime.fromisoformat(until))
    with acting_as(None, AuditSource.JOB):
        return store_snapshot(Scope(team_id=team_id, owner_id=owner_id), period).seconds


@task()
def refresh_scoreboards(reschedule: bool = False) -> int:
    """Recompute the standard periods of every scope; then come back in REFRESH_EVERY."""
    from closedloop.analytics.snapshots import REFRESH_EVERY, refresh_all

    with acting_as(None, AuditSource.JOB):
        count = refresh_all()
    if reschedule and refresh_scoreboards.get_backend().supports_defer:
        later = timezone.now() + REFRESH_EVERY
        refresh_scoreboards.using(run_after=later).enqueue(True)
    return count


@task()
def send_weekly_scoreboard(reschedule: bool = False) -> int:
    """Email the scoreboard to both teams; returns how many people got it."""
    from closedloop.analytics.email import send_scoreboard_email

    sent = send_scoreboard_email()
    if reschedule and send_weekly_scoreboard.get_backend().supports_defer:
        later = timezone.now() + SCOREBOARD_EMAIL_EVERY
        send_weekly_scoreboard.using(run_after=later).enqueue(True)
    return sent
