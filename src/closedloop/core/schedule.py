"""Periodic background work, started by `closedloop worker`.

A periodic task re-enqueues itself with `run_after` when it finishes. The worker only has to
make sure one run of each is waiting when it starts. It checks the database queue first, so
restarting workers never piles up copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Periodic:
    task_path: str
    first_run_in: timedelta
    args: tuple = ()


# Weekly model retraining; scoring.tasks takes its interval from here.
RETRAIN = Periodic("closedloop.scoring.tasks.retrain_model", timedelta(days=7), (True, "schedule"))

PERIODIC: tuple[Periodic, ...] = (
    RETRAIN,
    Periodic("closedloop.handoff.tasks.run_sla_check", timedelta(minutes=1), (True,)),
    Periodic("closedloop.handoff.tasks.send_task_reminders", timedelta(minutes=2), (True,)),
    Periodic("closedloop.handoff.tasks.send_feedback_digest", timedelta(days=7), (7, True)),
    Periodic(
        "closedloop.core.maintenance.refresh_planner_statistics_daily", timedelta(hours=1), (True,)
    ),
    Periodic(
        "closedloop.engagement.tasks.prune_touch_properties_daily", timedelta(hours=2), (True,)
    ),
    # The scoreboard's snapshots: soon after a worker starts, then every 15 minutes.
    Periodic("closedloop.analytics.tasks.refresh_scoreboards", timedelta(seconds=30), (True,)),
    Periodic("closedloop.analytics.tasks.send_weekly_scoreboard", timedelta(days=7), (True,)),
)


def ensure_scheduled(periodic: Periodic) -> bool:
    """Queue the first run of `periodic` unless one is already waiting; True if it queued one.

    Only the database backend can be asked what is waiting. With RQ, run the `--schedule`
    commands once instead (`closedloop sla check --schedule`, `closedloop digest send
    --schedule`, `closedloop model train --schedule`).
    """
    task = import_string(periodic.task_path)
    if not task.get_backend().supports_defer:
        return False
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return False
    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    if DBTaskResult.objects.filter(task_path=task.module_path, status="READY").exists():
        return False
    task.using(run_after=timezone.now() + periodic.first_run_in).enqueue(*periodic.args)
    return True


def start_periodic_tasks() -> list[str]:
    """Make sure every periodic task has a run waiting; returns the paths it queued."""
    return [p.task_path for p in PERIODIC if ensure_scheduled(p)]
