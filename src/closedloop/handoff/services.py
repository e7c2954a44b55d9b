"""What people do at the handoff: accept, reject, log work, claim, reassign, decide disputes,
and how recycled leads come back.

Rejection paths (the managed reason decides which):
- recycle ("not now"): Recycled, owner released, back to stage Lead on `recycle_on` or on
  re-engagement (and MQL again only when the contract's MQL rule says so);
- disqualify ("wrong fit"): Disqualified. **The Disqualified stage is the negative label the
  predictive scorer trains on**; the reason and note stay on the Rejection row;
- bad data: back to stage Lead without an owner, and an unresolved Rejection that is the
  marketing-ops queue until someone resolves it;
- duplicate: Disqualified, marked with the surviving lead (`Rejection.duplicate_of`); the
  survivor's activities are untouched.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.core import events
from closedloop.core.db import vendor
from closedloop.core.db.chunks import IDS_PER_STATEMENT
from closedloop.core.models import User
from closedloop.crm.models import (
    Activity,
    ActivityKind,
    Lead,
    LeadStatus,
    LifecycleStage,
)
from closedloop.crm.services import change_stage, save_if_version
from closedloop.handoff import permissions, sla
from closedloop.handoff.models import (
    Acceptance,
    Assignment,
    Dispute,
    DisputeStatus,
    Notification,
    Rejection,
    RejectionPath,
    RejectionReason,
)

DEFAULT_REASONS = [
    # (code, label, path, recycle_days, position): the list a new installation starts with.
    ("not-now", "Not now: timing", RejectionPath.RECYCLE, 90, 1),
    ("wrong-fit", "Wrong fit", RejectionPath.DISQUALIFY, 90, 2),
    ("bad-data", "Bad data: cannot reach", RejectionPath.BAD_DATA, 90, 3),
    ("duplicate", "Duplicate of another lead", RejectionPath.DUPLICATE, 90, 4),
]


def ensure_default_reasons() -> int:
    """Create the starting rejection reasons that are missing (the data migration does this
    on install; a flushed database needs it again). Returns how many were created."""
    created = 0
    for code, label, path, days, position in DEFAULT_REASONS:
        created += RejectionReason.objects.get_or_create(
            code=code,
            defaults={"label": label, "path": path, "recycle_days": days, "position": position},
        )[1]
    return created


def _locked(lead: Lead) -> Lead:
    # Re-read under a row lock: two clicks on accept and reject must not both win.
    return Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead.pk)


def _require_stage(lead: Lead, *stages: str) -> None:
    if lead.lifecycle_stage not in stages:
        names = " or ".join(LifecycleStage(s).label for s in stages)
        raise ValidationError(
            {"lead": f"lead {lead.pk} is {lead.get_lifecycle_stage_display()}, not {names}"}
        )


@transaction.atomic
def accept_lead(lead: Lead, *, by: User, at: datetime | None = None) -> Acceptance:
    """The owner (or their manager) accepts an MQL: it becomes a sales-accepted lead (SAL)."""
    at = at or timezone.now()
    lead = _locked(lead)
    permissions.check_can_work_lead(by, lead)
    _require_stage(lead, LifecycleStage.MQL)
    change_stage(lead, to=LifecycleStage.SAL, by=by, reason="Accepted by sales", at=at)
    acceptance = Acceptance.objects.create(lead=lead, rep=lead.owner, at=at)
    payload = {"lead_id": lead.pk, "rep": lead.owner.email if lead.owner else None}
    transaction.on_commit(
        lambda: events.lead_accepted.send(sender=Lead, lead=lead, payload=payload)
    )
    return acceptance


@transaction.atomic
def reject_lead(
    lead: Lead,
    *,
    by: User,
    reason: RejectionReason | str,
    note: str = "",
    recycle_on: date | None = None,
    duplicate_of: Lead | None = None,
    at: datetime | None = None,
) -> Rejection:
    """Reject an MQL with a reason from the managed list (and an optional note); the reason's
    path decides where the lead goes (see the module docstring)."""
    at = at or timezone.now()
    reason = _reason(reason)
    lead = _locked(lead)
    permissions.check_can_work_lead(by, lead)
    _require_stage(lead, LifecycleStage.MQL, LifecycleStage.SAL)
    note = note.strip()
    rejection = Rejection(
        lead=lead,
        rep=lead.owner,
        reason=reason,
        note=note,
        at=at,
        campaign_id=lead.original_campaign_id,
        source=lead.source,
        contacted=sla.was_contacted(lead),
    )
    _PATHS[reason.path](lead, rejection, by=by, recycle_on=recycle_on, duplicate_of=duplicate_of)
    rejection.save()
    sla.stop_clock(lead, at=at)
    payload = {
        "lead_id": lead.pk,
        "rep": rejection.rep.email if rejection.rep else None,
        "reason": reason.code,
        "note": note,
    }
    transaction.on_commit(
        lambda: events.lead_rejected.send(sender=Lead, lead=lead, payload=payload)
    )
    return rejection


def _reason(reason: RejectionReason | str) -> RejectionReason:
    if isinstance(reason, RejectionReason):
        return reason
    found = RejectionReason.objects.filter(code=reason, is_active=True).first()
    if found is None:
        raise ValidationError(
            {
                "reason": f"{reason!r} is not a reason in the managed list"
                if reason
                else "a reason is required"
            }
        )
    return found


def _recycle(lead, rejection, *, by, recycle_on, **_):
    today = timezone.localdate()
    recycle_on = recycle_on or today + timedelta(days=rejection.reason.recycle_days)
    if recycle_on <= today:
        raise ValidationError({"recycle_on": "the re-entry date must be in the future"})
    rejection.recycle_on = recycle_on
    change_stage(lead, to=LifecycleStage.RECYCLED, by=by, reason=_why(rejection), at=rejection.at)
    _release(lead, by=by, reason="recycled", status=LeadStatus.NURTURE, recycle_at=recycle_on)


def _disqualify(lead, rejection, *, by, **_):
    change_stage(
        lead, to=LifecycleStage.DISQUALIFIED, by=by, reason=_why(rejection), at=rejection.at
    )
    lead.status = LeadStatus.UNQUALIFIED
    save_if_version(lead, expected_version=None, fields=["status"])


def _bad_data(lead, rejection, *, by, **_):
    change_stage(lead, to=LifecycleStage.LEAD, by=by, reason=_why(rejection), at=rejection.at)
    _release(lead, by=by, reason="bad data: back to marketing ops", status=LeadStatus.NEW)


def _duplicate(lead, rejection, *, by, duplicate_of, **_):
    if duplicate_of is None:
        raise ValidationError({"duplicate_of": "name the surviving lead this one duplicates"})
    if duplicate_of.pk == lead.pk:
        raise ValidationError({"duplicate_of": "a lead cannot duplicate itself"})
    rejection.duplicate_of = duplicate_of
    reason = f"{_why(rejection)} (duplicate of lead #{duplicate_of.pk})"
    change_stage(lead, to=LifecycleStage.DISQUALIFIED, by=by, reason=reason, at=rejection.at)
    lead.status = LeadStatus.UNQUALIFIED
    save_if_version(lead, expected_version=None, fields=["status"])


_PATHS = {
    RejectionPath.RECYCLE: _recycle,
    RejectionPath.DISQUALIFY: _disqualify,
    RejectionPath.BAD_DATA: _bad_data,
    RejectionPath.DUPLICATE: _duplicate,
}


def _why(rejection: Rejection) -> str:
    text = f"Rejected: {rejection.reason.label}"
    return f"{text}: {rejection.note}" if rejection.note else text


def _release(lead: Lead, *, by, reason: str, status: str, recycle_at: date | None = None) -> None:
    Assignment.objects.create(
        lead=lead,
        from_owner=lead.owner,
        to_owner=None,
        rule="release",
        reason=reason,
        by=by,
        at=timezone.now(),
    )
    lead.owner, lead.status, lead.recycle_at = None, status, recycle_at
    save_if_version(lead, expected_version=None, fields=["owner", "status", "recycle_at"])


@transaction.atomic
def log_activity(
    lead: Lead,
    *,
    by: User,
    kind: str,
    outcome: str = "",
    notes: str = "",
    at: datetime | None = None,
) -> Activity:
    """A rep logs a call, email, meeting or note on their lead; calls, emails and meetings count
    as contact attempts and the first one stops the first-touch clock."""
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(ActivityKind.values)}"})
    at = at or timezone.now()
    lead = _locked(lead)
    permissions.check_can_work_lead(by, lead)
    activity = Activity.objects.create(
        lead=lead, rep=by, kind=kind, outcome=outcome, notes=notes.strip(), at=at
    )
    if kind in sla.ATTEMPT_KINDS:
        sla.record_touch(lead, at=at)
        fields = []
        if lead.first_touched_at is None:
            lead.first_touched_at, fields = at, ["first_touched_at"]
        if lead.status == LeadStatus.NEW:
            lead.status, fields = LeadStatus.ATTEMPTING, [*fields, "status"]
        if fields:
            save_if_version(lead, expected_version=None, fields=fields)
    return activity


# -- ownership -------------------------------------------------------------------------


def is_protected(lead: Lead, *, now: datetime | None = None) -> bool:
    """Owned and worked (an activity by the owner) within the contract's protection window."""
    if lead.owner_id is None:
        return False
    now = now or timezone.now()
    days = sla.sla_numbers().ownership_protect_days
    return Activity.objects.filter(
        lead=lead, rep_id=lead.owner_id, at__gte=now - timedelta(days=days)
    ).exists()


@transaction.atomic
def claim_lead(lead: Lead, *, by: User, reason: str = "") -> Lead | Dispute:
    """A rep asks for a lead. Unowned or unworked: it is theirs. Protected: a Dispute opens
    for the team's manager to decide. Returns the lead or the dispute."""
    lead = _locked(lead)
    permissions.check_can_claim(by, lead)
    if lead.owner_id == by.pk:
        return lead
    if is_protected(lead):
        if not reason.strip():
            raise ValidationError({"reason": "say why you should have this protected lead"})
        dispute, _ = Dispute.objects.get_or_create(
            lead=lead,
            claimant=by,
            status=DisputeStatus.OPEN,
            defaults={
                "owner": lead.owner,
                "reason": reason.strip()[:300],
                "created_at": timezone.now(),
            },
        )
        return dispute
    _transfer(lead, to=by, by=by, rule="claim", reason=reason.strip() or "claimed")
    return lead


@transaction.atomic
def decide_dispute(dispute: Dispute, *, by: User, grant: bool, note: str = "") -> Dispute:
    """A manager settles a claim: grant moves the lead to the claimant; deny keeps it."""
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("claimant", "lead")
        .get(pk=dispute.pk)
    )
    permissions.check_can_decide_dispute(by, claimant=dispute.claimant)
    if dispute.status != DisputeStatus.OPEN:
        raise ValidationError({"dispute": f"already decided: {dispute.get_status_display()}"})
    now = timezone.now()
    dispute.status = DisputeStatus.GRANTED if grant else DisputeStatus.DENIED
    dispute.decided_by, dispute.decided_at, dispute.decision_note = by, now, note.strip()[:300]
    dispute.save()
    if grant:
        _transfer(
            _locked(dispute.lead),
            to=dispute.claimant,
            by=by,
            rule="dispute",
            reason=f"dispute granted: {dispute.decision_note or dispute.reason}",
        )
    for user in {dispute.claimant, dispute.owner} - {None}:
        Notification.objects.create(
            user=user,
            lead=dispute.lead,
            at=now,
            text=f"Dispute over {dispute.lead}: {dispute.get_status_display()}",
        )
    return dispute


@transaction.atomic
def reassign_leads(lead_ids: list[int], *, to: User, by: User, reason: str) -> int:
    """A manager (or admin) moves leads to `to` with a reason; returns how many moved."""
    if not reason.strip():
        raise ValidationError({"reason": "a reason is required to reassign leads"})
    if to.role not in ("rep", "manager") or not to.is_active:
        raise ValidationError({"to": f"{to} cannot own leads"})
    leads = list(
        Lead.objects.select_for_update(of=("self",)).select_related("owner").filter(pk__in=lead_ids)
    )
    if len(leads) != len(set(lead_ids)):
        raise ValidationError({"lead_ids": "some leads do not exist"})
    for lead in leads:
        permissions.check_can_reassign_lead(by, lead, new_owner=to)
    moved = 0
    for lead in leads:
        if lead.owner_id != to.pk:
            _transfer(lead, to=to, by=by, rule="manual", reason=reason.strip())
            moved += 1
    return moved


def _transfer(lead: Lead, *, to: User, by: User, rule: str, reason: str) -> None:
    now = timezone.now()
    Assignment.objects.create(
        lead=lead, from_owner=lead.owner, to_owner=to, rule=rule, reason=reason[:300], by=by, at=now
    )
    lead.owner, lead.assigned_at = to, now
    save_if_version(lead, expected_version=None, fields=["owner", "assigned_at"])
    _hand_over(lead, to=to, at=now, reason=reason)


def _hand_over(lead: Lead, *, to: User, at: datetime, reason: str) -> None:
    """What follows a new owner: their SLA clock on an open lead, and a notice."""
    if lead.lifecycle_stage in sla.OPEN_STAGES:
        calendars = sla.calendars_for_teams({to.team_id})
        sla.upsert_timers([(lead.pk, at, calendars[to.team_id])], numbers=sla.sla_numbers())
    Notification.objects.create(user=to, lead=lead, at=at, text=f"{lead} is now yours ({reason})")


def record_owner_changes(
    changes: list[dict], *, by: User | None, reason: str, at: datetime
) -> list[Assignment]:
    """Owners set through another door (the API, the admin, an import: crm's `owners_changed`
    tells us inside the writer's transaction), each {"lead", "from_owner", "to_owner"} as ids:
    the same ownership log entries, SLA clocks and notices as a reassignment here."""
    rows = Assignment.objects.bulk_create(
        Assignment(
            lead_id=change["lead"],
            from_owner_id=change["from_owner"],
            to_owner_id=change["to_owner"],
            rule="manual",
            reason=reason[:300],
            by=by,
            at=at,
        )
        for change in changes
    )
    owned = [c["lead"] for c in changes if c["to_owner"] is not None]
    for lead in Lead.objects.filter(pk__in=owned).select_related("owner"):
        _hand_over(lead, to=lead.owner, at=at, reason=reason)
    return rows


def assign_from_queue(lead: Lead, *, to: User, by: User) -> None:
    """A manager hands an unassigned lead to a rep from the queue."""
    moved = reassign_leads([lead.pk], to=to, by=by, reason="assigned from the unassigned queue")
    if not moved:
        raise PermissionDenied("the lead already belongs to that rep")


def resolve_bad_data(rejection: Rejection, *, by: User) -> Rejection:
    """Marketing ops fixed a record sales called bad data: it leaves the queue."""
    if by.role not in ("marketing", "admin"):
        raise PermissionDenied("marketing ops resolves bad-data rejections")
    if rejection.reason.path != RejectionPath.BAD_DATA:
        raise ValidationError({"rejection": "only bad-data rejections wait in the queue"})
    if rejection.resolved_at is None:
        rejection.resolved_at = timezone.now()
        rejection.save(update_fields=["resolved_at"])
    return rejection


def bad_data_queue():
    """Bad-data rejections nobody has resolved yet, oldest first."""
    return (
        Rejection.objects.filter(reason__path=RejectionPath.BAD_DATA, resolved_at__isnull=True)
        .select_related("lead", "rep", "reason")
        .order_by("at")
    )


# -- recycling ----------------------------------------------------------------------------


def return_to_lead(lead: Lead, *, reason: str) -> bool:
    """Bring a recycled lead back to stage Lead. It becomes MQL again only when the contract's
    MQL rule says so (a rescore follows, see `leads_reentered`); returns whether it moved."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.lifecycle_stage != LifecycleStage.RECYCLED:
            return False
        change_stage(lead, to=LifecycleStage.LEAD, reason=reason)
        lead.recycle_at, lead.status = None, LeadStatus.NEW
        save_if_version(lead, expected_version=None, fields=["recycle_at", "status"])
    return True


def _return_all(leads, *, reason: str) -> int:
    returned = [lead.pk for lead in leads if return_to_lead(lead, reason=reason)]
    if returned:
        payload = {"lead_ids": returned}
        transaction.on_commit(lambda: events.leads_reentered.send(sender=Lead, payload=payload))
    return len(returned)


def return_due_recycled_leads(*, today: date | None = None) -> int:
    """Recycled leads whose re-entry date has come go back to stage Lead; returns how many."""
    today = today or timezone.localdate()
    due = Lead.objects.filter(lifecycle_stage=LifecycleStage.RECYCLED, recycle_at__lte=today)
    return _return_all(due, reason="Re-entry date reached: back to Lead")


def return_reengaged_leads(lead_ids: list[int]) -> int:
    """Recycled leads that touched us again (new touchpoints) go back to stage Lead."""
    recycled = _recycled_among(lead_ids)
    if not recycled:
        return 0
    leads = Lead.objects.filter(pk__in=recycled)
    return _return_all(leads, reason="Re-engaged while recycled: back to Lead")


def _recycled_among(lead_ids: list[int], *, chunk: int = IDS_PER_STATEMENT) -> list[int]:
    # Asked after every tracking commit, and nearly always none are recycled: a plain query
    # for ids costs ~0.1 ms, where compiling the ORM's Lead query cost ~1 ms of each request.
    known = [int(pk) for pk in lead_ids if pk is not None]
    found: list[int] = []
    for where, params in vendor.one_of_chunks("id", known, size=chunk):
        found += [
            row[0]
            for row in vendor.fetch(
                f"SELECT id FROM {vendor.table(Lead)} WHERE lifecycle_stage = %s AND {where}",
                [LifecycleStage.RECYCLED.value, *params],
            )
        ]
    return found


def on_became_mql(lead: Lead, *, at: datetime) -> None:
    """Start the lead's clocks; routing follows in a background task."""
    from closedloop.handoff.tasks import route_lead

    sla.start_clock(lead, at=at)
    if lead.owner_id is None:
        route_lead.enqueue(lead.pk)
