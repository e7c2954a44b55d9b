"""Lifecycle stage changes of leads: the one way a lead's stage moves, one by one or in bulk.

Stages never change silently (DESIGN.md): every move writes a StageChange (from, to, when, by,
why, rule version), sets `mql_at` the first time a lead reaches MQL, and after commit sends
`lead_stage_changed` (and `lead_became_mql` for MQL). `change_stage` does this for one lead;
`plan_stage_move` + `record_stage_moves` do the same for many (the importer), so both paths
write the same history and send the same events.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closedloop.core import events
from closedloop.crm.models import Lead, LifecycleStage, StageChange


def plan_stage_move(
    lead: Lead,
    *,
    to: str,
    by=None,
    reason: str = "",
    rule_version: int | None = None,
    at: datetime | None = None,
) -> StageChange | None:
    """Move `lead` to `to` in memory and return the unsaved StageChange (None if already there).

    Sets `lifecycle_stage` and, on the first arrival at MQL, `mql_at`; the caller saves the
    lead and the change (`change_stage` for one lead, `record_stage_moves` for many).
    """
    if to not in LifecycleStage.values:
        raise ValueError(f"unknown lifecycle stage {to!r}")
    if lead.lifecycle_stage == to:
        return None
    at = at or timezone.now()
    change = StageChange(
        lead=lead,
        from_stage=lead.lifecycle_stage,
        to_stage=to,
        at=at,
        by=by,
        reason=reason[:300],
        rule_version=rule_version,
    )
    lead.lifecycle_stage = to
    if to == LifecycleStage.MQL and lead.mql_at is None:
        lead.mql_at = at
    return change


@transaction.atomic
def change_stage(
    lead: Lead,
    *,
    to: str,
    by=None,
    reason: str = "",
    rule_version: int | None = None,
    at: datetime | None = None,
) -> StageChange | None:
    """Move `lead` to stage `to`, recording who, when, why and which rule version.

    Returns the saved StageChange, or None when the lead already is at that stage.
    """
    had_mql_at = lead.mql_at is not None
    change = plan_stage_move(lead, to=to, by=by, reason=reason, rule_version=rule_version, at=at)
    if change is None:
        return None
    change.save()
    update_fields = ["lifecycle_stage", "version", "updated_at"]
    if lead.mql_at is not None and not had_mql_at:
        update_fields.append("mql_at")
    lead.version = F("version") + 1
    lead.save(update_fields=update_fields)
    lead.refresh_from_db(fields=["version"])
    announce_stage_moves([change])
    return change


def record_stage_moves(changes: list[StageChange]) -> None:
    """Save the StageChanges that `plan_stage_move` returned for many leads (whose rows the
    caller saves), and send their events after commit, as `change_stage` does for one."""
    StageChange.objects.bulk_create(changes)
    announce_stage_moves(changes)


def announce_stage_moves(changes: list[StageChange]) -> None:
    """After commit: `lead_stage_changed` for each change, `lead_became_mql` for moves to MQL."""
    for change in changes:
        lead, payload = change.lead, stage_payload(change)
        transaction.on_commit(
            lambda lead=lead, payload=payload: events.lead_stage_changed.send(
                sender=Lead, lead=lead, payload=payload
            )
        )
        if change.to_stage == LifecycleStage.MQL:
            transaction.on_commit(
                lambda lead=lead, payload=payload: events.lead_became_mql.send(
                    sender=Lead, lead=lead, payload=payload
                )
            )


def stage_payload(change: StageChange) -> dict:
    """The JSON payload of a stage change's events (and webhooks)."""
    return {
        "lead_id": change.lead_id,
        "from": change.from_stage,
        "to": change.to_stage,
        "reason": change.reason,
        "rule_version": change.rule_version,
        "at": change.at.isoformat(),
    }
