"""Background work: routing new MQLs, the periodic SLA check, escalations, task reminders,
the weekly digest.

The periodic tasks re-enqueue themselves with `run_after` when the backend can defer (the
database and RQ backends); the in-process backend used by tests runs them once.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource

SLA_CHECK_EVERY = timedelta(minutes=5)
TASK_REMINDERS_EVERY = timedelta(minutes=15)
RETRY_BACKOFF = timedelta(minutes=1)


@task()
def route_lead(lead_id: int) -> int | None:
    from closedloop.crm.models import Lead
    from closedloop.handoff.routing import assign_lead

    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        return None
    with acting_as(None, AuditSource.JOB):
        return assign_lead(lead)


@task()
def run_sla_check(reschedule: bool = True) -> dict:
    """Check every running clock, return recycled leads whose date came; then come back later."""
    from closedloop.handoff.services import return_due_recycled_leads
    from closedloop.handoff.sla import check_slas

    with acting_as(None, AuditSource.JOB):
        result = check_slas()
        result["returned"] = return_due_recycled_leads()
    if reschedule and run_sla_check.get_backend().supports_defer:
        run_sla_check.using(run_after=timezone.now() + SLA_CHECK_EVERY).enqueue(True)
    return result


@task()
def send_task_reminders(reschedule: bool = True) -> int:
    """Remind assignees of the tasks that fell due (once each); then come back later."""
    from closedloop.handoff.work import remind_due_tasks

    with acting_as(None, AuditSource.JOB):
        sent = remind_due_tasks()
    if reschedule and send_task_reminders.get_backend().supports_defer:
        later = timezone.now() + TASK_REMINDERS_EVERY
        send_task_reminders.using(run_after=later).enqueue(True)
    return sent


@task()
def deliver_escalation(escalation_id: int) -> bool | None:
    """Send one email escalation; on failure try again later (backoff doubling), up to 5
    attempts. Webhook escalations are webhooks deliveries, retried by that app."""
    from closedloop.handoff.models import Escalation
    from closedloop.handoff.sla import attempt_delivery

    outcome = attempt_delivery(escalation_id)
    if outcome is False:
        attempts = Escalation.objects.get(pk=escalation_id).attempts
        retry = deliver_escalation
        if retry.get_backend().supports_defer:
            retry = retry.using(run_after=timezone.now() + RETRY_BACKOFF * 2 ** (attempts - 1))
        retry.enqueue(escalation_id)
    return outcome


@task()
def send_feedback_digest(days: int = 7, reschedule: bool = False) -> int:
    """Email marketing what sales said in the last `days` days; returns how many got it."""
    from closedloop.handoff.reports import send_digest

    sent = send_digest(days=days)
    if reschedule and send_feedback_digest.get_backend().supports_defer:
        later = timezone.now() + timedelta(days=days)
        send_feedback_digest.using(run_after=later).enqueue(days, True)
    return sent
