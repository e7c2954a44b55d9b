"""Creating, moving, closing and reopening opportunities, from every door.

- The stage is one of the pipeline's in the contract in force (`pipeline_stages()`); every
  move writes an OpportunityStageChange (who, when, from, to, why) and `stage_entered_at`.
- An open deal moves freely between open stages (a board drag, forward or back). Closing is
  its own act, `close_opportunity`: a reason from the managed list for its outcome and a note.
  A closed deal moves only when an admin reopens it with a reason, which the history and the
  audit log keep (as lifecycle overrides do, docs/decisions/0011-lifecycle-enforcement.md).
- Close fields agree with the stage whatever the door: a closed deal has `closed_at`, an open
  one has none; only a lost deal keeps a `lost_reason`, only a won one a `won_reason`.
- Won sends `opportunity_won`, lost `opportunity_lost`, after commit, once per close; the
  contacts' leads move along the lifecycle (`closing.py`).
- Creating a deal at a stage is an entry, not a move: history arriving (an import, the API).
  Its first history row is "" → stage; one created lost still needs a `lost_reason`.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.core.audit import record_change
from closedloop.core.models import Role, User
from closedloop.core.permissions import require_write
from closedloop.crm.models import (
    CloseOutcome,
    CloseReason,
    Opportunity,
    OpportunityStage,
    default_currency,
)
from closedloop.crm.models import OpportunityStageChange as History
from closedloop.crm.permissions import check_can_work_opportunity
from closedloop.crm.services.closing import announce_close, move_contacts
from closedloop.crm.services.leads import check_new_owner, check_owner_change, default_owner
from closedloop.crm.services.pipeline import (
    check_currency,
    check_pipeline_stage,
    close_reason,
    current_pipeline,
    known_reason,
    pipeline_stages,
    stage_probability,
)
from closedloop.crm.services.versions import save_changed, set_changed

__all__ = [
    "announce_won",
    "check_close",
    "check_lost_reason",
    "close_opportunity",
    "create_opportunity",
    "delete_opportunity",
    "move_opportunity",
    "pipeline_stages",
    "reopen_opportunity",
    "stage_probability",
    "sync_close_fields",
    "update_opportunity",
]

CLOSED = (OpportunityStage.WON, OpportunityStage.LOST)
# Fields only the closing and reopening acts write (the API's PATCH and the admin refuse them).
CLOSE_FIELDS = ("won_reason", "lost_reason", "close_note", "closed_at")


def check_lost_reason(*, stage: str, lost_reason: str) -> None:
    """ValidationError on `lost_reason` when a lost deal has none, or one the managed list
    never had (a deactivated reason stays valid for the deals that carry it)."""
    if stage != OpportunityStage.LOST:
        return
    if not lost_reason:
        raise ValidationError({"lost_reason": "a lost opportunity needs a lost_reason"})
    if not known_reason(CloseOutcome.LOST, lost_reason):
        close_reason(CloseOutcome.LOST, lost_reason, field="lost_reason")  # raises, listing them


def sync_close_fields(opportunity: Opportunity, fields: list[str], *, at=None) -> list[str]:
    """Make closed_at and the reasons agree with the stage; returns `fields` plus those set.

    ValidationError on `lost_reason` for a lost deal without one.
    """
    check_lost_reason(stage=opportunity.stage, lost_reason=opportunity.lost_reason)
    if "stage" not in fields:
        return fields
    opportunity.closed_at = (at or timezone.now()) if opportunity.is_closed else None
    fields = [*fields, "closed_at"]
    for outcome, name in (
        (OpportunityStage.LOST, "lost_reason"),
        (OpportunityStage.WON, "won_reason"),
    ):
        if opportunity.stage != outcome and getattr(opportunity, name):
            setattr(opportunity, name, "")
            fields.append(name)
    return fields


def announce_won(opportunities: list[Opportunity]) -> None:
    """After commit, send `opportunity_won` for each of these (just won) opportunities."""
    for opportunity in opportunities:
        announce_close(opportunity)


def _record_move(
    opportunity: Opportunity, *, from_stage: str, by: User | None, reason: str, at: datetime
) -> History:
    opportunity.stage_entered_at = at
    return History.objects.create(
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=opportunity.stage,
        at=at,
        by=by,
        reason=reason[:300],
    )


@transaction.atomic
def create_opportunity(
    *, by: User | None, fields: dict, at: datetime | None = None, reason: str = ""
) -> Opportunity:
    """Create an opportunity with `fields` (account, owner, campaign as objects) at the
    pipeline's first stage unless `fields` names one; a rep's or manager's deal without an owner
    is theirs. The history starts with its entry; one created Won announces the win."""
    fields = dict(fields)
    pipeline = current_pipeline()
    fields["stage"] = fields.get("stage") or pipeline.first.code
    check_pipeline_stage(fields["stage"], pipeline=pipeline)
    fields["currency"] = fields.get("currency") or default_currency()
    check_currency(fields["currency"])
    fields["owner"] = default_owner(by, fields.get("owner"), roles=(Role.REP, Role.MANAGER))
    check_new_owner(by, fields["owner"])
    at = at or timezone.now()
    opportunity = Opportunity(**{"created_at": at, **fields})
    sync_close_fields(opportunity, ["stage"], at=at)
    opportunity.stage_entered_at = at
    opportunity.save()
    _record_move(opportunity, from_stage="", by=by, reason=reason or "Opened", at=at)
    if opportunity.stage == OpportunityStage.WON:
        announce_close(opportunity)
    return opportunity


@transaction.atomic
def update_opportunity(
    opportunity: Opportunity,
    *,
    by: User | None,
    changes: dict,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """Write `changes` to `opportunity` (StaleVersion when `expected_version` is stale).

    A change of stage is a move (`move_opportunity`'s rules), or a close when it names a
    closing stage: then `changes` must carry the reason (`won_reason` / `lost_reason`) and
    `close_note`, as `close_opportunity` requires. Returns the opportunity."""
    changes = dict(changes)
    to = changes.pop("stage", opportunity.stage)
    if to != opportunity.stage and to in CLOSED:
        return _close_by_update(
            opportunity, by=by, to=to, changes=changes, version=expected_version, at=at
        )
    _refuse_close_fields(changes)
    if "owner" in changes:
        check_owner_change(by, current=opportunity.owner, new=changes["owner"])
    if "currency" in changes:
        check_currency(changes["currency"])
    if to != opportunity.stage:
        if by is not None:
            check_can_work_opportunity(by, opportunity)
        _check_move(opportunity, to)
    return _save(
        opportunity, by=by, changes={**changes, "stage": to}, version=expected_version, at=at
    )


def _refuse_close_fields(changes: dict) -> None:
    for name in CLOSE_FIELDS:
        if name in changes:
            raise ValidationError({name: "is set by closing the opportunity (with its stage)"})


def _close_by_update(opportunity, *, by, to, changes, version, at) -> Opportunity:
    won = to == OpportunityStage.WON
    reason = changes.pop("won_reason" if won else "lost_reason", "")
    note = changes.pop("close_note", "")
    _refuse_close_fields(changes)
    if changes:
        opportunity = update_opportunity(
            opportunity, by=by, changes=changes, expected_version=version
        )
        version = None if version is None else opportunity.version
    return close_opportunity(
        opportunity, by=by, won=won, reason=reason, note=note, at=at, expected_version=version
    )


def _check_move(opportunity: Opportunity, to: str) -> None:
    refusal = current_pipeline().refusal(opportunity.stage, to)
    if refusal:
        raise ValidationError({"stage": refusal})


def _save(opportunity, *, by, changes, version, at, reason: str = "") -> Opportunity:
    from_stage = opportunity.stage
    fields = sync_close_fields(opportunity, set_changed(opportunity, changes), at=at)
    if "stage" in fields:
        at = at or timezone.now()
        _record_move(opportunity, from_stage=from_stage, by=by, reason=reason, at=at)
        fields.append("stage_entered_at")
    save_changed(opportunity, expected_version=version, fields=fields)
    return opportunity


@transaction.atomic
def move_opportunity(
    opportunity: Opportunity,
    *,
    by: User | None,
    to: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """Move an open deal to another open stage of the pipeline (forward or back: a board
    drag). ValidationError on `stage` for a closed deal (reopen it first), a closing stage
    (close it, with a reason and a note) or a stage the pipeline does not have."""
    if by is not None:
        check_can_work_opportunity(by, opportunity)
    _check_move(opportunity, to)
    return _save(opportunity, by=by, changes={"stage": to}, version=expected_version, at=at)


def check_close(*, won: bool, reason: str, note: str) -> CloseReason:
    """The active close reason `reason` for the outcome, or ValidationError on the reason
    field (`won_reason` / `lost_reason`) or on `close_note` when the note is blank."""
    outcome = CloseOutcome.WON if won else CloseOutcome.LOST
    found = close_reason(outcome, (reason or "").strip(), field=f"{outcome}_reason")
    if not (note or "").strip():
        raise ValidationError({"close_note": "closing a deal needs a note saying what happened"})
    return found


@transaction.atomic
def close_opportunity(
    opportunity: Opportunity,
    *,
    by: User | None,
    won: bool,
    reason: str,
    note: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Opportunity:
    """Close an open `opportunity` as won or lost, for `reason` (an active code of the managed
    close reasons for that outcome) with `note` (required: what happened, in words).

    Records the move in the history, sends `opportunity_won` or `opportunity_lost` after
    commit, and moves the contacts' leads (won: to Customer; lost: to Recycled when they have no
    other open deal), one lifecycle step at a time. ValidationError names the missing field.
    """
    if by is not None:
        check_can_work_opportunity(by, opportunity)
    if opportunity.is_closed:
        raise ValidationError(
            {"stage": f"the opportunity is already {opportunity.stage}: reopen it first"}
        )
    found = check_close(won=won, reason=reason, note=note)
    outcome = CloseOutcome(found.outcome)
    changes = {"stage": outcome.value, f"{outcome}_reason": found.code, "close_note": note.strip()}
    why = f"Closed {outcome}: {found.label}"
    _save(opportunity, by=by, changes=changes, version=expected_version, at=at, reason=why)
    announce_close(opportunity)
    move_contacts(opportunity, by=by, reason=found)
    return opportunity


@transaction.atomic
def reopen_opportunity(
    opportunity: Opportunity,
    *,
    by: User,
    reason: str,
    to: str = "",
    expected_version: int | None = None,
) -> Opportunity:
    """An admin reopens a closed deal at open stage `to` (default: the stage it closed from)
    with a reason, kept in the history ("Reopened: …") and the audit log. The contacts' leads
    stay where the close moved them (Customer is final; a recycled lead re-enters by its rule).
    PermissionDenied for anyone but an admin; ValidationError without a reason."""
    if by.role != Role.ADMIN:
        raise PermissionDenied("only an admin may reopen a closed opportunity")
    if not opportunity.is_closed:
        raise ValidationError({"stage": "the opportunity is open"})
    if not reason.strip():
        raise ValidationError({"reason": "reopening a closed deal needs a reason"})
    to = to or _stage_before_close(opportunity)
    if to in CLOSED or current_pipeline().refusal("", to):
        raise ValidationError({"stage": f"{to!r} is not an open stage of the pipeline"})
    record_change(opportunity, {"reopened": [opportunity.stage, reason.strip()]})
    changes = {"stage": to, "close_note": ""}
    why = f"Reopened: {reason.strip()}"
    return _save(opportunity, by=by, changes=changes, version=expected_version, at=None, reason=why)


def _stage_before_close(opportunity: Opportunity) -> str:
    last = (
        History.objects.filter(opportunity=opportunity, to_stage__in=CLOSED)
        .exclude(from_stage__in=(*CLOSED, ""))
        .values_list("from_stage", flat=True)
        .first()
    )
    pipeline = current_pipeline()
    return last if last in {s.code for s in pipeline.open_stages} else pipeline.first.code


@transaction.atomic
def delete_opportunity(opportunity: Opportunity, *, by: User | None) -> None:
    """Delete `opportunity` (its contact roles and history go with it).

    Read-only roles are refused; the audit log records who deleted it (the door's actor).
    """
    if by is not None:
        require_write(by)
    opportunity.delete()
