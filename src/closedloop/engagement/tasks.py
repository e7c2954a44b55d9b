"""Background work of engagement: the daily pruning of old raw touch properties."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource
from closedloop.engagement.retention import prune_touch_properties

PRUNE_EVERY = timedelta(days=1)


@task()
def prune_touch_properties_daily(reschedule: bool = False) -> int:
    """Apply CLOSEDLOOP_TOUCH_PROPERTIES_RETENTION_DAYS (0 keeps everything); runs daily."""
    days = settings.TOUCH_PROPERTIES_RETENTION_DAYS
    pruned = 0
    if days > 0:
        with acting_as(None, AuditSource.JOB):
            pruned = prune_touch_properties(older_than_days=days)
    if reschedule and prune_touch_properties_daily.get_backend().supports_defer:
        later = timezone.now() + PRUNE_EVERY
        prune_touch_properties_daily.using(run_after=later).enqueue(True)
    return pruned
