"""Content requests: a rep asks marketing for content that does not exist, marketing works
the queue against a deadline, and the request closes with the asset that fulfils it.

The deadline works like the lead SLA (handoff): working time in a calendar (the default
Mon–Fri 9–17; marketing has no team calendar of its own), RESPONSE_MINUTES by urgency, but
never later than the end of the day the rep needs it by. The request keeps the rep's searches
that found nothing in the FAILED_SEARCH_DAYS before it (the library's search log), so marketing
sees what was looked for. The requester is notified when it is taken, fulfilled or declined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from closedloop.content.models import AssetStatus, ContentAsset, SearchLog
from closedloop.content.permissions import curates
from closedloop.content.usage_models import (
    OPEN_STATUSES,
    ContentRequest,
    RequestStatus,
    Urgency,
)
from closedloop.core.models import User
from closedloop.crm.models import Lead, Opportunity
from closedloop.handoff import engine as handoff_engine
from closedloop.handoff.models import Notification
from closedloop.handoff.sla import calendar_for

RESPONSE_MINUTES: dict[str, int] = {  # working minutes: 4 hours, 2 days, 5 days of 8 hours
    Urgency.HIGH.value: 4 * 60,
    Urgency.NORMAL.value: 2 * 8 * 60,
    Urgency.LOW.value: 5 * 8 * 60,
}
WARN_BEFORE_MINUTES = 2 * 60
FAILED_SEARCH_DAYS = 14
MAX_SEARCHES = 10


def request_content(
    *,
    by: User,
    what: str,
    lead: Lead | None = None,
    opportunity: Opportunity | None = None,
    needed_by: date | None = None,
    urgency: str = Urgency.NORMAL,
    now: datetime | None = None,
) -> ContentRequest:
    """Open a request (the caller checked that `by` sees the lead or opportunity). Refused
    with a ValidationError naming the field: an empty `what`, an unknown urgency, a date in
    the past."""
    now = now or timezone.now()
    _check_request(what=what, urgency=urgency, needed_by=needed_by, today=now.date())
    with transaction.atomic():
        request = ContentRequest.objects.create(
            what=what.strip()[:2000],
            requested_by=by,
            lead=lead,
            opportunity=opportunity,
            needed_by=needed_by,
            urgency=urgency,
            due_at=due_at(now, urgency=urgency, needed_by=needed_by),
            created_at=now,
        )
        request.searches.set(failed_searches(by, before=now))
    return request


def _check_request(*, what: str, urgency: str, needed_by: date | None, today: date) -> None:
    if not what or not what.strip():
        raise ValidationError({"what": "say what you need"})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": f"one of {', '.join(Urgency.values)}"})
    if needed_by is not None and needed_by < today:
        raise ValidationError({"needed_by": "a date from today on"})


def due_at(start: datetime, *, urgency: str, needed_by: date | None) -> datetime:
    """RESPONSE_MINUTES[urgency] working minutes after `start`, or the end of `needed_by`
    if that comes first."""
    due = handoff_engine.add_working_minutes(start, RESPONSE_MINUTES[urgency], calendar_for(None))
    if needed_by is not None:
        due = min(due, datetime.combine(needed_by, time(23, 59), UTC))
    return due


def failed_searches(user: User, *, before: datetime) -> list[SearchLog]:
    """The user's recent searches that found nothing, or where they opened nothing."""
    since = before - timedelta(days=FAILED_SEARCH_DAYS)
    logs = SearchLog.objects.filter(
        user=user, created_at__gte=since, created_at__lte=before, opened_asset__isnull=True
    )
    return list(logs.order_by("-created_at")[:MAX_SEARCHES])


def _notify(request: ContentRequest, text: str, *, now: datetime) -> None:
    if request.requested_by_id:
        Notification.objects.create(
            user_id=request.requested_by_id, lead=request.lead, at=now, text=text[:300]
        )


def take_request(request: ContentRequest, *, by: User, now: datetime | None = None) -> None:
    """Marketing takes the request: it is assigned to `by` and in progress."""
    check_works_queue(by)
    now = now or timezone.now()
    _require_open(request)
    request.assignee, request.status = by, RequestStatus.IN_PROGRESS
    request.save(update_fields=["assignee", "status"])
    _notify(request, f"{by} is working on your request “{request.what[:80]}”", now=now)


def fulfil_request(
    request: ContentRequest,
    *,
    by: User,
    asset: ContentAsset,
    answer: str = "",
    now: datetime | None = None,
) -> None:
    """Close the request with the published asset that answers it; the requester is told."""
    check_works_queue(by)
    _require_open(request)
    if asset.status != AssetStatus.PUBLISHED or asset.personal:
        raise ValidationError({"asset": "fulfil with a published library asset"})
    now = now or timezone.now()
    request.status, request.fulfilled_by, request.answer = RequestStatus.FULFILLED, asset, answer
    request.closed_at, request.assignee = now, request.assignee or by
    request.save(update_fields=["status", "fulfilled_by", "answer", "closed_at", "assignee"])
    _notify(request, f"Your request was answered: “{asset.title}” is in the library", now=now)


def decline_request(
    request: ContentRequest, *, by: User, answer: str, now: datetime | None = None
) -> None:
    """Close the request without content; the reason is required and sent to the rep."""
    check_works_queue(by)
    _require_open(request)
    if not answer.strip():
        raise ValidationError({"answer": "say why"})
    now = now or timezone.now()
    request.status, request.answer, request.closed_at = RequestStatus.DECLINED, answer, now
    request.assignee = request.assignee or by
    request.save(update_fields=["status", "answer", "closed_at", "assignee"])
    _notify(request, f"Your request was declined: {answer}", now=now)


def _require_open(request: ContentRequest) -> None:
    if request.status not in OPEN_STATUSES:
        raise ValidationError({"status": "this request is already closed"})


def check_works_queue(user: User) -> None:
    if not curates(user):
        raise PermissionDenied("only marketing works the request queue")


def visible_requests(user: User) -> QuerySet[ContentRequest]:
    """Marketing, admins and executives see every request; others their own."""
    queryset = ContentRequest.objects.select_related(
        "requested_by", "assignee", "lead", "opportunity", "fulfilled_by"
    )
    if curates(user) or user.role == "executive":
        return queryset
    return queryset.filter(requested_by=user)


@dataclass(frozen=True)
class Clock:
    state: handoff_engine.TimerState
    minutes_left: float


def clock(request: ContentRequest, *, now: datetime | None = None) -> Clock:
    """Where the request's deadline stands (the lead SLA's states: on track, warning,
    breached; met or missed once closed)."""
    now = now or timezone.now()
    left = handoff_engine.working_minutes_between(now, request.due_at, calendar_for(None))
    state = handoff_engine.timer_state(
        now=now,
        due=request.due_at,
        done_at=request.closed_at,
        minutes_left=left,
        warn_before_minutes=WARN_BEFORE_MINUTES,
    )
    return Clock(state, left)
