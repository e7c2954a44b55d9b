"""Background scoring work: full rescores, rescoring touched leads, scheduled retraining.

Scheduled retraining: `retrain_model(reschedule=True)` trains (when there is enough history),
rescores everything, then enqueues itself again RETRAIN_EVERY later with `run_after`.
`closedloop model train --schedule` starts that chain once; `closedloop worker` also starts it
when no retraining is already waiting (see `ensure_retrain_scheduled`).
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource
from closedloop.core.schedule import RETRAIN, ensure_scheduled

RETRAIN_EVERY = RETRAIN.first_run_in  # one place says how often: core.schedule.RETRAIN


@task(queue_name="scoring")
def rescore_everything(trigger: str = "") -> dict:
    """Rescore all leads (after a rules change or a retrain)."""
    from closedloop.scoring.services import rescore_all

    with acting_as(None, AuditSource.JOB):
        return rescore_all(trigger=trigger)


@task(queue_name="scoring")
def rescore_touched_leads(lead_ids: list[int]) -> int:
    """Rescore the leads that just got new touchpoints or were imported; returns how many
    became MQL."""
    from closedloop.scoring.services import rescore_leads

    with acting_as(None, AuditSource.JOB):
        return rescore_leads(lead_ids)


@task(queue_name="scoring")
def retrain_model(reschedule: bool = False, by: str = "schedule") -> dict:
    """Train on the latest outcomes, rescore everyone; with `reschedule`, come back later."""
    from closedloop.scoring.services import NotEnoughHistory, rescore_all, train_model

    result: dict = {}
    with acting_as(None, AuditSource.JOB):
        try:
            model = train_model(by=by)
            result = {"model_id": model.pk, "metrics": model.metrics}
            result["rescore"] = rescore_all(trigger="retrain")
        except NotEnoughHistory as exc:
            result = {"skipped": str(exc)}
    if reschedule and retrain_model.get_backend().supports_defer:
        retrain_model.using(run_after=timezone.now() + RETRAIN_EVERY).enqueue(True, "schedule")
    return result


def ensure_retrain_scheduled() -> bool:
    """Enqueue the weekly retraining unless one is already waiting; True if it enqueued."""
    return ensure_scheduled(RETRAIN)
