"""What closing a deal does beyond the deal: the events, and the contacts' lifecycle.

- Won sends `opportunity_won`, lost `opportunity_lost`, after commit (so a rolled-back close
  announces nothing), with one payload shape for both.
- Won: each contact lead at SQL or Opportunity moves on to Customer, one lifecycle step at a
  time (SQL → Opportunity → Customer), each a recorded stage change.
- Lost: each contact lead at Opportunity with no other open deal moves to Recycled, with a
  re-entry date the loss reason's `recycle_days` ahead (status Nurture): marketing nurtures it
  and it comes back by the contract's rule.
- A move the contract's lifecycle does not list is skipped rather than refusing the close: the
  deal's outcome is a fact; where its people stand is the lifecycle's to say.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from closedloop.core import events
from closedloop.crm.models import (
    CloseReason,
    Lead,
    LeadStatus,
    LifecycleStage,
    Opportunity,
    OpportunityStage,
)
from closedloop.crm.services.stages import change_stage, current_lifecycle
from closedloop.crm.services.versions import save_if_version

# Where each contact's stage goes, step by step, when a deal is won.
_WON_STEPS: dict[str, tuple[str, ...]] = {
    LifecycleStage.SQL: (LifecycleStage.OPPORTUNITY, LifecycleStage.CUSTOMER),
    LifecycleStage.OPPORTUNITY: (LifecycleStage.CUSTOMER,),
}


def close_payload(opportunity: Opportunity) -> dict:
    """The JSON payload of `opportunity_won` / `opportunity_lost` (and their webhooks)."""
    closed_at = opportunity.closed_at
    won = opportunity.stage == OpportunityStage.WON
    return {
        "opportunity_id": opportunity.pk,
        "name": opportunity.name,
        "amount": str(opportunity.amount),
        "currency": opportunity.currency,
        "account_id": opportunity.account_id,
        "owner_id": opportunity.owner_id,
        "stage": opportunity.stage,
        "reason": opportunity.won_reason if won else opportunity.lost_reason,
        "note": opportunity.close_note,
        "closed_at": closed_at.isoformat() if closed_at else None,
    }


def announce_close(opportunity: Opportunity) -> None:
    """After commit, send `opportunity_won` or `opportunity_lost` for this just-closed deal."""
    signal = events.opportunity_won if opportunity.stage == OpportunityStage.WON else None
    if opportunity.stage == OpportunityStage.LOST:
        signal = events.opportunity_lost
    if signal is None:
        return
    payload = close_payload(opportunity)
    transaction.on_commit(
        lambda: signal.send(sender=Opportunity, opportunity=opportunity, payload=payload)
    )


def move_contacts(opportunity: Opportunity, *, by, reason: CloseReason) -> None:
    """Move the leads holding a contact role on the just-closed `opportunity` (module doc)."""
    leads = Lead.objects.filter(opportunity_roles__opportunity=opportunity).order_by("pk")
    why = f"Deal {opportunity.stage}: {opportunity.name} ({reason.label})"
    lifecycle = current_lifecycle()
    for lead in leads.select_for_update(of=("self",)):
        if opportunity.stage == OpportunityStage.WON:
            steps = _WON_STEPS.get(lead.lifecycle_stage, ())
        else:
            steps = _lost_steps(lead, opportunity)
        for step in steps:
            if not lifecycle.allows(lead.lifecycle_stage, step):
                break
            change_stage(lead, to=step, by=by, reason=why, lifecycle=lifecycle)
        if lead.lifecycle_stage == LifecycleStage.RECYCLED and steps:
            _nurture(lead, days=reason.recycle_days)


def _lost_steps(lead: Lead, opportunity: Opportunity) -> tuple[str, ...]:
    if lead.lifecycle_stage != LifecycleStage.OPPORTUNITY:
        return ()
    other_open = (
        Opportunity.objects.filter(roles__lead=lead)
        .exclude(pk=opportunity.pk)
        .exclude(stage__in=(OpportunityStage.WON, OpportunityStage.LOST))
        .exists()
    )
    return () if other_open else (LifecycleStage.RECYCLED,)


def _nurture(lead: Lead, *, days: int) -> None:
    lead.status = LeadStatus.NURTURE
    lead.recycle_at = timezone.localdate() + timedelta(days=days)
    save_if_version(lead, expected_version=None, fields=["status", "recycle_at"])
