"""Sales-side SLA clocks: start them, show them, check them, escalate breaches.

The numbers (first-touch minutes, attempts within days, warning lead time) come from the
active definitions contract; the working-time arithmetic from `engine`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from closedloop.core import events
from closedloop.core.db.insert import insert_rows
from closedloop.core.models import Role, Team, User
from closedloop.crm.models import ActivityKind, Lead, LifecycleStage
from closedloop.definitions.contract import SlaPolicy
from closedloop.definitions.services import contract_in_force
from closedloop.handoff import engine
from closedloop.handoff.models import (
    Channel,
    DeliveryStatus,
    Escalation,
    LeadSla,
    Notification,
    SlaBreach,
    SlaKind,
    TeamCalendar,
)
from closedloop.webhooks.services import queue_post

log = logging.getLogger(__name__)

OPEN_STAGES = (LifecycleStage.MQL, LifecycleStage.SAL)
ATTEMPT_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)
MAX_DELIVERY_ATTEMPTS = 5


def sla_numbers() -> SlaPolicy:
    """The SLA policy of the contract in force (never a copy kept here)."""
    return contract_in_force().sla


def calendar_for(team: Team | None) -> engine.WorkCalendar:
    key = team.pk if team else None
    return calendars_for_teams({key})[key]


def calendars_for_teams(team_ids: set[int | None]) -> dict[int | None, engine.WorkCalendar]:
    """WorkCalendar per team id; a team without a TeamCalendar works Mon–Fri 9–17 in its zone.
    The key None (a lead whose owner has no team) gets the same default in UTC."""
    ids = {t for t in team_ids if t is not None}
    zones = dict(Team.objects.filter(pk__in=ids).values_list("pk", "time_zone"))
    stored = {
        c.team_id: c
        for c in TeamCalendar.objects.filter(team_id__in=ids).prefetch_related("holidays")
    }
    result: dict[int | None, engine.WorkCalendar] = {None: engine.WorkCalendar()}
    for team_id in ids:
        cal = stored.get(team_id)
        zone = zones.get(team_id) or "UTC"
        if cal is None:
            result[team_id] = engine.WorkCalendar(time_zone=zone)
            continue
        result[team_id] = engine.WorkCalendar(
            time_zone=zone,
            start=cal.work_start,
            end=cal.work_end,
            workdays=cal.workday_numbers,
            holidays=tuple(h.date for h in cal.holidays.all()),
        )
    return result


def upsert_timers(
    items: list[tuple[int, datetime, engine.WorkCalendar]], *, numbers: SlaPolicy
) -> None:
    """Set the deadlines of leads' clocks: items are (lead id, clock start, owner's calendar).

    An existing open clock keeps its start (reassigning does not reset the SLA); only the
    deadlines are recomputed in the new owner's calendar.
    """
    existing = {t.lead_id: t for t in LeadSla.objects.filter(lead_id__in=[i[0] for i in items])}
    new_rows, update = [], []
    for lead_id, start, calendar in items:
        timer = existing.get(lead_id)
        if timer is None:
            # Plain tuples, not model instances: routing starts thousands of clocks a second.
            first_due = engine.add_working_minutes(start, numbers.first_touch_minutes, calendar)
            new_rows.append(
                (
                    lead_id,
                    start,
                    first_due,
                    start + timedelta(days=numbers.attempts_days),
                    numbers.attempts,
                )
            )
            continue
        if timer.closed_at is None:
            start = timer.started_at
        _set_deadlines(timer, start, calendar, numbers)
        update.append(timer)
    _insert_timers(new_rows)
    LeadSla.objects.bulk_update(
        update, ["started_at", "first_touch_due", "attempts_due", "attempts_required", "closed_at"]
    )


def _insert_timers(rows: list[tuple]) -> None:
    """rows: (lead id, started_at, first_touch_due, attempts_due, attempts_required)."""
    insert_rows(
        LeadSla,
        (
            "lead_id",
            "started_at",
            "first_touch_due",
            "attempts_due",
            "attempts_required",
            "attempts_made",
        ),
        [(*row, 0) for row in rows],
    )


def _set_deadlines(timer: LeadSla, start, calendar, numbers: SlaPolicy) -> None:
    timer.started_at = start
    timer.first_touch_due = engine.add_working_minutes(start, numbers.first_touch_minutes, calendar)
    timer.attempts_due = start + timedelta(days=numbers.attempts_days)
    timer.attempts_required = numbers.attempts
    timer.closed_at = None


def start_clock(lead: Lead, *, at: datetime) -> LeadSla:
    """(Re)start a lead's clocks at `at`, the moment it became an MQL."""
    team = lead.owner.team if lead.owner is not None else None
    timer = LeadSla.objects.filter(lead=lead).first() or LeadSla(lead=lead)
    _set_deadlines(timer, at, calendar_for(team), sla_numbers())
    timer.first_touched_at, timer.attempts_made, timer.warned_at = None, 0, None
    timer.save()
    return timer


def stop_clock(lead: Lead, *, at: datetime) -> None:
    LeadSla.objects.filter(lead=lead, closed_at__isnull=True).update(closed_at=at)


def record_touch(lead: Lead, *, at: datetime) -> None:
    """A call, email or meeting was logged: the first touch if none yet, and one more attempt."""
    timer = LeadSla.objects.select_for_update().filter(lead=lead, closed_at__isnull=True).first()
    if timer is None:
        return
    timer.first_touched_at = timer.first_touched_at or at
    timer.attempts_made += 1
    timer.save(update_fields=["first_touched_at", "attempts_made"])


# -- showing timers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Timer:
    label: str
    state: engine.TimerState
    due: datetime
    minutes_left: float  # working minutes (first touch) or wall-clock minutes (attempts)
    detail: str


def timers_for(
    lead: Lead,
    *,
    now: datetime | None = None,
    timer: LeadSla | None = None,
    calendar: engine.WorkCalendar | None = None,
) -> list[Timer]:
    """The lead's two sales clocks as they stand at `now`; empty when no clock runs."""
    now = now or timezone.now()
    timer = timer or LeadSla.objects.filter(lead=lead).first()
    if timer is None:
        return []
    numbers = sla_numbers()
    calendar = calendar or calendar_for(lead.owner.team if lead.owner is not None else None)
    done = timer.first_touched_at
    left = engine.working_minutes_between(now, timer.first_touch_due, calendar)
    first = Timer(
        "First touch",
        _state(now, timer.first_touch_due, done, left, numbers, timer.closed_at, contacted=done),
        timer.first_touch_due,
        left,
        f"within {numbers.first_touch_minutes} working minutes of MQL",
    )
    # Enough attempts counts as done at the clock's start: MET, whatever the time now.
    attempts_done = timer.started_at if timer.attempts_made >= timer.attempts_required else None
    attempts_left = (timer.attempts_due - now).total_seconds() / 60
    attempts = Timer(
        "Attempts",
        _state(
            now,
            timer.attempts_due,
            attempts_done,
            attempts_left,
            numbers,
            timer.closed_at,
            contacted=timer.attempts_made,
        ),
        timer.attempts_due,
        attempts_left,
        f"{timer.attempts_made} of {timer.attempts_required} within {numbers.attempts_days} days",
    )
    return [first, attempts]


def _state(now, due, done, left, numbers, closed_at, *, contacted) -> engine.TimerState:
    if closed_at is not None and done is None:
        # The lead left the sales queue (rejected, recycled) before this clock was done.
        return closed_state(closed_at=closed_at, due=due, contacted=bool(contacted))
    return engine.timer_state(
        now=now,
        due=due,
        done_at=done,
        minutes_left=left,
        warn_before_minutes=numbers.warn_before_minutes,
    )


def closed_state(*, closed_at: datetime, due: datetime, contacted: bool) -> engine.TimerState:
    """A clock stopped before it was done: without any contact it is STOPPED (rejected without
    contact, never "met"); with some, met or missed by when the lead left the queue."""
    if not contacted:
        return engine.TimerState.STOPPED
    return engine.TimerState.MISSED if closed_at > due else engine.TimerState.MET


def was_contacted(lead: Lead) -> bool:
    """Whether the lead's current clock saw a call, email or meeting (any attempt at all)."""
    timer = LeadSla.objects.filter(lead=lead).only("first_touched_at", "attempts_made").first()
    if timer is not None:
        return timer.first_touched_at is not None or timer.attempts_made > 0
    since = lead.mql_at or lead.created_at
    return lead.activities.filter(kind__in=ATTEMPT_KINDS, at__gte=since).exists()


# -- the periodic check -------------------------------------------------------------------


def check_slas(*, now: datetime | None = None) -> dict:
    """Warn owners of coming deadlines and record + escalate breaches. Returns counts.

    Idempotent: a breach is recorded once per lead, clock and deadline; a warning once per clock.
    """
    now = now or timezone.now()
    _refresh_attempts()
    open_timers = LeadSla.objects.filter(
        closed_at__isnull=True, lead__lifecycle_stage__in=OPEN_STAGES, lead__owner__isnull=False
    ).select_related("lead__owner")
    numbers = sla_numbers()
    warned = _warn(open_timers, now=now, numbers=numbers)
    breaches = _record_breaches(open_timers, now=now)
    return {"warned": warned, "breached": breaches}


def _refresh_attempts() -> None:
    # Activities also arrive by import and API; count them rather than trust the running total.
    open_timers = LeadSla.objects.filter(closed_at__isnull=True)
    counted = open_timers.annotate(
        made=Count(
            "lead__activities",
            filter=Q(lead__activities__kind__in=ATTEMPT_KINDS)
            & Q(lead__activities__at__gte=F("started_at")),
        )
    ).exclude(attempts_made=F("made"))
    for timer in counted:
        LeadSla.objects.filter(pk=timer.pk).update(attempts_made=timer.made)


def _warn(open_timers, *, now: datetime, numbers: SlaPolicy) -> int:
    soon = open_timers.filter(
        first_touched_at__isnull=True, warned_at__isnull=True, first_touch_due__gt=now
    )
    warned = 0
    calendars = calendars_for_teams(set(soon.values_list("lead__owner__team_id", flat=True)))
    for timer in soon:
        calendar = calendars[timer.lead.owner.team_id]
        left = engine.working_minutes_between(now, timer.first_touch_due, calendar)
        if left > numbers.warn_before_minutes:
            continue
        Notification.objects.create(
            user=timer.lead.owner,
            lead=timer.lead,
            at=now,
            text=f"First touch due for {timer.lead} in {left:.0f} working minutes",
        )
        LeadSla.objects.filter(pk=timer.pk).update(warned_at=now)
        warned += 1
    return warned


def _record_breaches(open_timers, *, now: datetime) -> int:
    found = []
    for timer in open_timers.filter(first_touched_at__isnull=True, first_touch_due__lt=now):
        found.append((timer, SlaKind.FIRST_TOUCH, timer.first_touch_due))
    late = open_timers.filter(attempts_due__lt=now).exclude(
        attempts_made__gte=F("attempts_required")
    )
    for timer in late:
        found.append((timer, SlaKind.ATTEMPTS, timer.attempts_due))
    recorded = 0
    for timer, kind, due in found:
        if breach_lead(timer.lead, kind=kind, due=due, now=now) is not None:
            recorded += 1
    return recorded


def breach_lead(lead: Lead, *, kind: str, due: datetime, now: datetime) -> SlaBreach | None:
    """Record a breach (once) and queue its escalation to the team's managers and webhook."""
    owner = lead.owner
    try:
        with transaction.atomic():
            breach = SlaBreach.objects.create(
                lead=lead,
                rep=owner,
                team_id=owner.team_id if owner else None,
                kind=kind,
                due=due,
                breached_at=now,
            )
            escalations = _escalations_for(breach)
            payload = {
                "lead_id": lead.pk,
                "rep": owner.email if owner else None,
                "sla": kind,
                "due": due.isoformat(),
                "breached_at": now.isoformat(),
            }
            transaction.on_commit(lambda: _announce(lead, payload, escalations))
    except IntegrityError:
        return None  # already recorded by an earlier check
    return breach


def _announce(lead: Lead, payload: dict, escalations: list[Escalation]) -> None:
    from closedloop.handoff.tasks import deliver_escalation

    events.sla_breached.send(sender=Lead, lead=lead, payload=payload)
    for escalation in escalations:
        if escalation.channel == Channel.EMAIL:  # webhook ones are queued deliveries already
            deliver_escalation.enqueue(escalation.pk)


def _escalations_for(breach: SlaBreach) -> list[Escalation]:
    rows = []
    if breach.team_id:
        managers = User.objects.filter(
            team_id=breach.team_id, role=Role.MANAGER, is_active=True
        ).exclude(email="")
        rows += [Escalation(breach=breach, channel=Channel.EMAIL, target=m.email) for m in managers]
        url = (
            TeamCalendar.objects.filter(team_id=breach.team_id)
            .values_list("escalation_webhook_url", flat=True)
            .first()
        )
        if url:
            # Chat webhooks (Slack, Teams, Mattermost) read a top-level "text".
            message = {"text": escalation_text(breach)}
            delivery = queue_post(url=url, event="sla.escalation", payload=message)
            rows.append(
                Escalation(breach=breach, channel=Channel.WEBHOOK, target=url, delivery=delivery)
            )
    return Escalation.objects.bulk_create(rows)


def escalation_text(breach: SlaBreach) -> str:
    lead, rep = breach.lead, breach.rep
    return (
        f"SLA breach: {breach.get_kind_display()} for lead {lead} (#{lead.pk}) owned by "
        f"{rep or 'nobody'} was due {breach.due:%Y-%m-%d %H:%M} UTC."
    )


def deliver(escalation: Escalation) -> None:
    """Send one email escalation now; raises on failure (the task retries)."""
    breach = escalation.breach
    send_mail(
        subject=f"[closedloop] {breach.get_kind_display()} SLA breached: {breach.lead}",
        message=escalation_text(breach),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[escalation.target],
        fail_silently=False,
    )


def attempt_delivery(escalation_id: int) -> bool | None:
    """Try an escalation once. True: sent; False: failed and worth retrying; None: done/given up."""
    escalation = Escalation.objects.select_related("breach__lead", "breach__rep").get(
        pk=escalation_id
    )
    if escalation.status != DeliveryStatus.PENDING or escalation.channel != Channel.EMAIL:
        return None
    escalation.attempts += 1
    try:
        deliver(escalation)
    except Exception as exc:  # any transport error: record it and let the task retry
        log.warning("escalation %s failed: %s", escalation.pk, exc)
        escalation.last_error = str(exc)[:500]
        if escalation.attempts >= MAX_DELIVERY_ATTEMPTS:
            escalation.status = DeliveryStatus.FAILED
        escalation.save(update_fields=["attempts", "last_error", "status"])
        return False if escalation.status == DeliveryStatus.PENDING else None
    escalation.status, escalation.sent_at = DeliveryStatus.SENT, timezone.now()
    escalation.save(update_fields=["attempts", "status", "sent_at"])
    return True
