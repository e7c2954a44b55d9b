"""Lifecycle stage changes of leads: the one way a lead's stage moves, one by one or in bulk.

Stages never change silently (DESIGN.md): every move writes a StageChange (from, to, when, by,
why, rule version), sets the lead's stage timestamp (`sal_at`, `mql_at`, ...: `stamp_entry`)
the first time the lead reaches that stage, and after commit sends
`lead_stage_changed` (and `lead_became_mql` for MQL). `change_stage` does this for one lead;
`plan_stage_move` + `record_stage_moves` do the same for many (the importer), so both paths
write the same history and send the same events.

Moves follow the lifecycle of the definitions contract in force (`Lifecycle`): a move it does
not list is refused with a ValidationError on `lifecycle_stage` that names the rule. An admin
may override with a reason; the StageChange keeps the reason and the audit log the rule broken.
Creating a lead at a stage is an entry, not a move (docs/decisions/0011-lifecycle-enforcement.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closedloop.core import events
from closedloop.core.audit import record_change
from closedloop.core.models import Role
from closedloop.crm.models import Lead, LifecycleStage, StageChange, entered_field
from closedloop.lifecycle import Lifecycle

# Which moves are allowed is the definitions contract's to say. The definitions app sits above
# crm (it reads leads for its what-if), so it hands its reader of the contract in force to crm
# when it starts (DefinitionsConfig.ready) instead of crm importing it; until then the
# starting contract's moves apply.
_lifecycle_source: Callable[[], Lifecycle] = Lifecycle.starting


def use_lifecycle_source(source: Callable[[], Lifecycle]) -> None:
    """Read the allowed stage moves from `source` from now on (the contract in force)."""
    global _lifecycle_source
    _lifecycle_source = source


def current_lifecycle() -> Lifecycle:
    """The stage moves the contract in force allows."""
    return _lifecycle_source()


def check_stage_move(
    lead: Lead,
    *,
    to: str,
    by=None,
    override_reason: str = "",
    lifecycle: Lifecycle | None = None,
) -> str | None:
    """Refuse a move of `lead` to `to` that the contract's lifecycle does not allow.

    Returns None for an allowed move, or the rule an admin's override (with a reason) breaks.
    Raises ValidationError on `lifecycle_stage` naming the rule, or PermissionDenied when
    someone other than an admin asks to override.
    """
    refusal = (lifecycle or current_lifecycle()).refusal(lead.lifecycle_stage, to)
    if refusal is None:
        return None
    if not override_reason.strip():
        raise ValidationError({"lifecycle_stage": refusal})
    if by is None or by.role != Role.ADMIN:
        raise PermissionDenied("only an admin may move a lead outside the lifecycle")
    return refusal


def plan_stage_move(
    lead: Lead,
    *,
    to: str,
    by=None,
    reason: str = "",
    rule_version: int | None = None,
    at: datetime | None = None,
    override_reason: str = "",
    lifecycle: Lifecycle | None = None,
) -> StageChange | None:
    """Move `lead` to `to` in memory and return the unsaved StageChange (None if already there).

    Checks the move against the lifecycle (`check_stage_move`); sets `lifecycle_stage` and, on
    the first arrival at the stage, its timestamp (`stamp_entry`); the caller saves the lead
    (`moved_fields` names what changed) and the change
    (`change_stage` for one lead, `record_stage_moves` for many). An override's StageChange
    carries `overridden`, the rule it broke.
    """
    if to not in LifecycleStage.values:
        raise ValueError(f"unknown lifecycle stage {to!r}")
    if lead.lifecycle_stage == to:
        return None
    broken = check_stage_move(
        lead, to=to, by=by, override_reason=override_reason, lifecycle=lifecycle
    )
    if broken:
        reason = f"Admin override: {override_reason.strip()}"
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
    change.overridden = broken
    lead.lifecycle_stage = to
    change.stamped = stamp_entry(lead, to, at)
    return change


def stamp_entry(lead: Lead, stage: str, at: datetime) -> bool:
    """Set `lead`'s timestamp of `stage` (e.g. `sal_at`) to `at` unless it already has one:
    the timestamps keep the *first* time a lead entered each stage, so a recycled lead that
    comes back keeps its first `mql_at`. Returns whether it was set (the caller saves it)."""
    field = entered_field(stage)
    if getattr(lead, field) is not None:
        return False
    setattr(lead, field, at)
    return True


def moved_fields(change: StageChange) -> list[str]:
    """The Lead fields a move planned by `plan_stage_move` changed, to save."""
    stamped = [entered_field(change.to_stage)] if getattr(change, "stamped", False) else []
    return ["lifecycle_stage", *stamped]


@transaction.atomic
def change_stage(
    lead: Lead,
    *,
    to: str,
    by=None,
    reason: str = "",
    rule_version: int | None = None,
    at: datetime | None = None,
    override_reason: str = "",
    lifecycle: Lifecycle | None = None,
) -> StageChange | None:
    """Move `lead` to stage `to`, recording who, when, why and which rule version.

    The move must be one the contract's lifecycle allows (ValidationError on
    `lifecycle_stage` otherwise), unless an admin gives an `override_reason`, which the stage
    history and the audit log keep. Returns the saved StageChange, or None when the lead
    already is at that stage.
    """
    change = plan_stage_move(
        lead,
        to=to,
        by=by,
        reason=reason,
        rule_version=rule_version,
        at=at,
        override_reason=override_reason,
        lifecycle=lifecycle,
    )
    if change is None:
        return None
    change.save()
    if change.overridden:
        record_change(
            lead,
            {"lifecycle_override": [change.overridden, override_reason.strip()]},
        )
    update_fields = [*moved_fields(change), "version", "updated_at"]
    lead.version = F("version") + 1
    lead.save(update_fields=update_fields)
    lead.refresh_from_db(fields=["version"])
    announce_stage_moves([change])
    return change


def enter_stage(lead: Lead, *, by=None, reason: str = "") -> StageChange:
    """Record the entry of a just-created `lead` at its stage ("" → stage, at its creation).

    An entry is not a move, so the lifecycle is not asked; the events are those of a move.
    The caller created the lead at its stage with that stage's timestamp (`stamp_entry`).
    """
    change = StageChange.objects.create(
        lead=lead,
        from_stage="",
        to_stage=lead.lifecycle_stage,
        at=lead.created_at,
        by=by,
        reason=reason[:300],
    )
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
