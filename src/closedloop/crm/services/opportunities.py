"""Creating, changing and closing opportunities, from every door.

Close fields stay consistent with the stage whatever the door: a closed deal (won or lost) has
`closed_at`, an open one has none; a lost deal needs a `lost_reason` and only a lost deal keeps
one. A deal that becomes Won sends `opportunity_won` after commit, exactly once per close.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.core import events
from closedloop.core.models import Role, User
from closedloop.core.permissions import require_write
from closedloop.crm.models import LostReason, Opportunity, OpportunityStage
from closedloop.crm.services.leads import check_new_owner, check_owner_change, default_owner
from closedloop.crm.services.versions import save_changed, set_changed

CLOSED = (OpportunityStage.WON, OpportunityStage.LOST)


def check_lost_reason(*, stage: str, lost_reason: str) -> None:
    """ValidationError on `lost_reason` when a lost deal has none."""
    if stage == OpportunityStage.LOST and not lost_reason:
        raise ValidationError({"lost_reason": "a lost opportunity needs a lost_reason"})


def sync_close_fields(opportunity: Opportunity, fields: list[str], *, at=None) -> list[str]:
    """Make closed_at and lost_reason agree with the stage; returns `fields` plus those set.

    ValidationError on `lost_reason` for a lost deal without one.
    """
    check_lost_reason(stage=opportunity.stage, lost_reason=opportunity.lost_reason)
    if "stage" not in fields:
        return fields
    opportunity.closed_at = (at or timezone.now()) if opportunity.is_closed else None
    fields = [*fields, "closed_at"]
    if opportunity.stage != OpportunityStage.LOST and opportunity.lost_reason:
        opportunity.lost_reason = LostReason.NONE
        fields.append("lost_reason")
    return fields


def announce_won(opportunities: list[Opportunity]) -> None:
    """After commit, send `opportunity_won` for each of these (just won) opportunities."""
    for opportunity in opportunities:
        payload = won_payload(opportunity)
        transaction.on_commit(
            lambda opportunity=opportunity, payload=payload: events.opportunity_won.send(
                sender=Opportunity, opportunity=opportunity, payload=payload
            )
        )


def won_payload(opportunity: Opportunity) -> dict:
    closed_at = opportunity.closed_at
    return {
        "opportunity_id": opportunity.pk,
        "name": opportunity.name,
        "amount": str(opportunity.amount),
        "account_id": opportunity.account_id,
        "owner_id": opportunity.owner_id,
        "closed_at": closed_at.isoformat() if closed_at else None,
    }


def _became_won(opportunity: Opportunity, fields: list[str]) -> bool:
    return "stage" in fields and opportunity.stage == OpportunityStage.WON


@transaction.atomic
def create_opportunity(*, by: User | None, fields: dict) -> Opportunity:
    """Create an opportunity with `fields` (account, owner, campaign as objects). A rep's or
    manager's deal without an owner is theirs; one created Won announces the win."""
    fields = dict(fields)
    fields["owner"] = default_owner(by, fields.get("owner"), roles=(Role.REP, Role.MANAGER))
    check_new_owner(by, fields["owner"])
    opportunity = Opportunity(**{"created_at": timezone.now(), **fields})
    changed = sync_close_fields(opportunity, ["stage"])
    opportunity.save()
    if _became_won(opportunity, changed):
        announce_won([opportunity])
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
    """Write `changes` to `opportunity` (StaleVersion when `expected_version` is stale),
    keeping the close fields consistent (a close happens `at`, default now); a move to Won
    announces the win. Returns the opportunity."""
    if "owner" in changes:
        check_owner_change(by, current=opportunity.owner, new=changes["owner"])
    fields = sync_close_fields(opportunity, set_changed(opportunity, changes), at=at)
    save_changed(opportunity, expected_version=expected_version, fields=fields)
    if _became_won(opportunity, fields):
        announce_won([opportunity])
    return opportunity


def close_opportunity(
    opportunity: Opportunity,
    *,
    by: User | None,
    won: bool,
    lost_reason: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Opportunity:
    """Close `opportunity` as won, or as lost for `lost_reason` (a LostReason value)."""
    if opportunity.is_closed:
        raise ValidationError({"stage": f"the opportunity is already {opportunity.stage}"})
    if not won and lost_reason not in LostReason.values or not (won or lost_reason):
        choices = ", ".join(v for v in LostReason.values if v)
        raise ValidationError({"lost_reason": f"a lost opportunity needs one of {choices}"})
    stage = OpportunityStage.WON if won else OpportunityStage.LOST
    changes = {"stage": stage, "lost_reason": "" if won else lost_reason}
    return update_opportunity(
        opportunity, by=by, changes=changes, expected_version=expected_version, at=at
    )


@transaction.atomic
def delete_opportunity(opportunity: Opportunity, *, by: User | None) -> None:
    """Delete `opportunity` (its contact roles go with it).

    Read-only roles are refused; the audit log records who deleted it (the door's actor).
    """
    if by is not None:
        require_write(by)
    opportunity.delete()
