"""The handoff's JSON API under /api/v1/handoff: the inbox, accept / reject / log / claim,
bulk reassignment, the rejection reasons, the feedback report and the SLA report; and the
qualification of a lead (`/leads/{id}/qualify`, `/leads/{id}/open-opportunity`)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, ApiError, BodySchema, Money, not_found
from closedloop.core.models import Role, User
from closedloop.core.permissions import visible
from closedloop.crm.models import ActivityKind, ContactRole, Lead
from closedloop.handoff import qualification, reports, services
from closedloop.handoff.models import Dispute, RejectionReason
from closedloop.handoff.sla import OPEN_STAGES
from closedloop.handoff.views import inbox_items

router = Router(auth=token_auth, tags=["handoff"])


class HandoffTimerOut(Schema):
    label: str
    state: str
    due: datetime
    minutes_left: float
    detail: str


class HandoffInboxLeadOut(Schema):
    id: int
    name: str
    company: str
    stage: str
    owner: str | None
    score: int
    priority: float
    timers: list[HandoffTimerOut]
    score_reasons: list[dict]


class HandoffReasonOut(Schema):
    code: str
    label: str
    path: str
    recycle_days: int


class HandoffRejectIn(BodySchema):
    reason: str = Field(min_length=1, description="code of a reason from GET /handoff/reasons")
    note: str = ""
    recycle_on: date | None = Field(None, description="not-now path: the re-entry date")
    duplicate_of: int | None = Field(None, description="duplicate path: the surviving lead id")


class HandoffActivityIn(BodySchema):
    kind: ActivityKind
    outcome: str = ""
    notes: str = ""


class HandoffClaimIn(BodySchema):
    reason: str = ""


class HandoffReassignIn(BodySchema):
    lead_ids: list[int] = Field(min_length=1)
    to: int = Field(description="id of the new owner")
    reason: str = Field(min_length=1, description="why the leads move (kept in the history)")


class QualifyAnswerIn(BodySchema):
    confirmed: bool
    evidence: str = Field("", max_length=1000, description="what the buyer said or showed")


class QualifyDealIn(BodySchema):
    name: str = Field("", max_length=200, description="default: '<account>: new deal'")
    amount: Money = Field(gt=0)
    close_date: date = Field(description="expected close date")
    currency: str = Field("", max_length=3, description="ISO 4217; default CLOSEDLOOP_CURRENCY")
    role: ContactRole = Field(ContactRole.DECISION_MAKER, description="the lead's role on the deal")
    next_step: str = Field("", max_length=200)


class QualifyIn(BodySchema):
    answers: dict[str, QualifyAnswerIn] = Field(
        description="one answer per criterion of the contract's SQL rule (GET /contract)"
    )
    note: str = Field("", max_length=5000)
    deal: QualifyDealIn | None = Field(None, description="opens the opportunity in the same step")


class QualificationOut(Schema):
    id: int
    lead_id: int
    stage: str
    confirmed: int
    rule_version: int | None
    account_id: int | None
    opportunity_id: int | None


class HandoffResultOut(Schema):
    lead_id: int
    stage: str
    owner: str | None
    dispute_id: int | None = None


@contextmanager
def _refusals():
    """Service refusals become the standard 422 body naming the field."""
    try:
        yield
    except DjangoValidationError as exc:
        field, problems = (
            next(iter(exc.message_dict.items()))
            if hasattr(exc, "message_dict")
            else ("", exc.messages)
        )
        raise ApiError(422, field, problems[0]) from exc


def _lead(user: User, lead_id: int) -> Lead:
    lead = visible(Lead.objects.select_related("owner"), user).filter(pk=lead_id).first()
    if lead is None:
        raise not_found("lead", lead_id, "lead_id")
    return lead


def _result(lead: Lead, dispute: Dispute | None = None) -> dict:
    lead.refresh_from_db()
    return {
        "lead_id": lead.pk,
        "stage": lead.lifecycle_stage,
        "owner": lead.owner.email if lead.owner else None,
        "dispute_id": dispute.pk if dispute else None,
    }


@router.get("/handoff/inbox", response={200: list[HandoffInboxLeadOut], **ERRORS})
def inbox(request, unassigned: bool = False):
    """The caller's open leads (managers: their team's; `unassigned=true`: the queue), most
    urgent first: priority = score × SLA urgency."""
    user = request.auth
    if user.role not in (Role.REP, Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("the inbox is for sales reps and managers")
    if unassigned:
        if user.role == Role.REP:
            raise PermissionDenied("the unassigned queue is for managers")
        leads = Lead.objects.filter(owner__isnull=True, lifecycle_stage="mql")
    elif user.role == Role.REP:
        leads = Lead.objects.filter(owner=user, lifecycle_stage__in=OPEN_STAGES)
    else:
        leads = visible(
            Lead.objects.filter(owner__isnull=False, lifecycle_stage__in=OPEN_STAGES), user
        )
    return [
        {
            "id": i["lead"].pk,
            "name": str(i["lead"]),
            "company": i["lead"].company,
            "stage": i["lead"].lifecycle_stage,
            "owner": i["lead"].owner.email if i["lead"].owner else None,
            "score": i["lead"].score,
            "priority": round(i["priority"], 2),
            "score_reasons": i["reasons"],
            "timers": [t.__dict__ | {"state": str(t.state)} for t in i["timers"]],
        }
        for i in inbox_items(leads, now=timezone.now())
    ]


@router.get("/handoff/reasons", response={200: list[HandoffReasonOut], **ERRORS})
def reasons(request):
    """The managed list of rejection reasons and the path each one takes."""
    return list(RejectionReason.objects.filter(is_active=True))


@router.post("/handoff/leads/{lead_id}/accept", response={200: HandoffResultOut, **ERRORS})
def accept(request, lead_id: int):
    lead = _lead(request.auth, lead_id)
    with _refusals():
        services.accept_lead(lead, by=request.auth)
    return _result(lead)


@router.post("/handoff/leads/{lead_id}/reject", response={200: HandoffResultOut, **ERRORS})
def reject(request, lead_id: int, payload: HandoffRejectIn):
    lead = _lead(request.auth, lead_id)
    duplicate = _lead(request.auth, payload.duplicate_of) if payload.duplicate_of else None
    with _refusals():
        services.reject_lead(
            lead,
            by=request.auth,
            reason=payload.reason,
            note=payload.note,
            recycle_on=payload.recycle_on,
            duplicate_of=duplicate,
        )
    return _result(lead)


def _qualified(q) -> dict:
    q.lead.refresh_from_db(fields=["lifecycle_stage"])
    return {
        "id": q.pk,
        "lead_id": q.lead_id,
        "stage": q.lead.lifecycle_stage,
        "confirmed": q.confirmed,
        "rule_version": q.rule_version,
        "account_id": q.account_id,
        "opportunity_id": q.opportunity_id,
    }


@router.post("/leads/{lead_id}/qualify", response={201: QualificationOut, **ERRORS})
def qualify(request, lead_id: int, payload: QualifyIn):
    """Qualify a sales-accepted lead against the contract's SQL rule (SAL → SQL), linking its
    account; with `deal`, also open its opportunity (SQL → Opportunity). Too few confirmed
    criteria is a 422 on `answers` naming what is missing."""
    lead = _lead(request.auth, lead_id)
    body = payload.dict()
    q = qualification.qualify_lead(
        lead, by=request.auth, answers=body["answers"], note=payload.note, deal=body["deal"]
    )
    return Status(201, _qualified(q))


class QualificationDetailOut(QualificationOut):
    at: datetime
    by: str | None
    answers: dict
    note: str


@router.get(
    "/leads/{lead_id}/qualifications", response={200: list[QualificationDetailOut], **ERRORS}
)
def qualifications(request, lead_id: int):
    """The lead's qualifications, newest first: who, when, each criterion's answer and
    evidence, the contract version whose SQL rule was applied, and what they linked."""
    lead = _lead(request.auth, lead_id)
    return [
        {
            **_qualified(q),
            "at": q.at,
            "by": q.by.email if q.by else None,
            "answers": q.answers,
            "note": q.note,
        }
        for q in lead.qualifications.select_related("by", "lead")
    ]


class OpenedOut(Schema):
    lead_id: int
    stage: str
    account_id: int
    opportunity_id: int


@router.post("/leads/{lead_id}/open-opportunity", response={201: OpenedOut, **ERRORS})
def open_opportunity(request, lead_id: int, payload: QualifyDealIn):
    """Open the opportunity of a lead qualified without one (SQL → Opportunity)."""
    lead = _lead(request.auth, lead_id)
    deal = qualification.open_opportunity(lead, by=request.auth, deal=payload.dict())
    return Status(
        201,
        {
            "lead_id": lead.pk,
            "stage": "opportunity",
            "account_id": deal.account_id,
            "opportunity_id": deal.pk,
        },
    )


@router.post("/handoff/leads/{lead_id}/activities", response={200: HandoffResultOut, **ERRORS})
def log_activity(request, lead_id: int, payload: HandoffActivityIn):
    lead = _lead(request.auth, lead_id)
    with _refusals():
        services.log_activity(
            lead, by=request.auth, kind=payload.kind, outcome=payload.outcome, notes=payload.notes
        )
    return _result(lead)


@router.post("/handoff/leads/{lead_id}/claim", response={200: HandoffResultOut, **ERRORS})
def claim(request, lead_id: int, payload: HandoffClaimIn):
    """Claim a lead; a protected one opens a dispute (see dispute_id) instead."""
    lead = _lead(request.auth, lead_id)
    with _refusals():
        outcome = services.claim_lead(lead, by=request.auth, reason=payload.reason)
    return _result(lead, outcome if isinstance(outcome, Dispute) else None)


@router.post("/handoff/reassign", response={200: dict, **ERRORS})
def reassign(request, payload: HandoffReassignIn):
    """Managers and admins: move leads to one owner, with a reason."""
    to = User.objects.filter(pk=payload.to, is_active=True).first()
    if to is None:
        raise ApiError(422, "to", f"no active user with id {payload.to}")
    # A lead the caller may not see is a 404, as a missing one: neither reveals it exists.
    seen = set(
        visible(Lead.objects.all(), request.auth)
        .filter(pk__in=payload.lead_ids)
        .values_list("pk", flat=True)
    )
    missing = [pk for pk in dict.fromkeys(payload.lead_ids) if pk not in seen]
    if missing:
        raise not_found("lead", ", ".join(map(str, missing)), "lead_ids")
    with _refusals():
        moved = services.reassign_leads(
            payload.lead_ids, to=to, by=request.auth, reason=payload.reason
        )
    return {"moved": moved}


@router.get("/handoff/feedback", response={200: dict, **ERRORS})
def feedback(request, days: int = Query(30, ge=1, le=730)):
    """Rejections by reason, campaign, source and rep, with the notes, over the last `days`."""
    if request.auth.role == Role.REP:
        raise PermissionDenied("the feedback report is for marketing and managers")
    return reports.feedback_report(since=timezone.now() - timedelta(days=days))


@router.get("/handoff/sla", response={200: dict, **ERRORS})
def sla(request, weeks: int = Query(12, ge=1, le=104)):
    """Both sides of the SLA: first-touch times and compliance, marketing's delivery."""
    report = reports.sla_report(weeks=weeks)
    return report
