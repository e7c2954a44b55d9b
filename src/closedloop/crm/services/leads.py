"""Creating and changing leads, from every door (API, pages, admin, CLI).

Rules that hold whatever the door: a rep's new lead without an owner is the rep's (or they
could not see it); owners change only as `check_can_assign` allows; a new owner restarts
`assigned_at`; the stage moves only through `change_stage`, so history and events follow.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from closedloop.core import events
from closedloop.core.models import Role, User
from closedloop.core.permissions import check_can_assign, require_write
from closedloop.crm.models import Lead, LifecycleStage
from closedloop.crm.services.stages import change_stage, enter_stage, stamp_entry
from closedloop.crm.services.versions import StaleVersion, save_changed, set_changed


def check_owner_change(by: User | None, *, current: User | None, new: User | None) -> None:
    """PermissionDenied unless `by` may move a record from owner `current` to `new`.

    `by` None is the system itself (routing, scheduled jobs), which the rules already bind.
    """
    if by is not None and _pk(current) != _pk(new):
        check_can_assign(by, new_owner=new)


def check_new_owner(by: User | None, owner: User | None) -> None:
    """A new record given to someone other than its creator needs the right to assign."""
    if by is not None and owner is not None and owner.pk != by.pk:
        check_can_assign(by, new_owner=owner)


def _pk(user: User | None) -> int | None:
    return user.pk if user is not None else None


def default_owner(by: User | None, owner: User | None, *, roles=(Role.REP,)) -> User | None:
    """The owner a new record gets: the one named, else its creator when their role is in
    `roles` (their team's visibility follows the owner, so an unowned record would vanish)."""
    if owner is None and by is not None and by.role in roles:
        return by
    return owner


@transaction.atomic
def create_lead(
    *,
    by: User | None,
    fields: dict,
    stage: str = LifecycleStage.LEAD,
    reason: str = "",
    at: datetime | None = None,
) -> Lead:
    """Create a lead with `fields` (model field names; owner, account and original_campaign as
    objects) at `stage`. Its entry is recorded through change_stage ("" → stage, by, reason),
    so the history says who created it and why; returns the saved lead."""
    fields = dict(fields)
    fields["owner"] = default_owner(by, fields.get("owner"))
    check_new_owner(by, fields["owner"])
    now = fields.pop("created_at", None) or at or timezone.now()
    if stage not in LifecycleStage.values:
        raise ValueError(f"unknown lifecycle stage {stage!r}")
    lead = Lead(**fields, created_at=now, lifecycle_stage=stage)
    if lead.owner_id:
        lead.assigned_at = now
    stamp_entry(lead, stage, now)
    lead.save()
    # Created at its stage in one INSERT; the entry is history, not a lifecycle move.
    enter_stage(lead, by=by, reason=reason or "created")
    return lead


@transaction.atomic
def update_lead(
    lead: Lead,
    *,
    by: User | None,
    changes: dict,
    stage: str | None = None,
    reason: str = "",
    expected_version: int | None = None,
    override_reason: str = "",
) -> Lead:
    """Write `changes` (field name → value; owner, account, campaign as objects) to `lead`,
    then move it to `stage` when given, as the contract's lifecycle allows (an admin may
    override it with `override_reason`). With `expected_version`, only if the lead is still
    at that version (StaleVersion otherwise). Nothing changes when anything is refused."""
    if "owner" in changes:
        check_owner_change(by, current=lead.owner, new=changes["owner"])
    # Lock the row so the version compared is the version written (SQLite's IMMEDIATE
    # transactions already serialise writers; PostgreSQL needs the row lock).
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if expected_version is not None and lead.version != expected_version:
        raise StaleVersion(f"lead {lead.pk}")
    previous_owner = lead.owner_id
    fields = set_changed(lead, changes)
    if "owner" in fields:
        lead.assigned_at = timezone.now() if lead.owner_id else None
        fields.append("assigned_at")
    save_changed(lead, expected_version=lead.version, fields=fields)
    if "owner" in fields:
        change = (lead.pk, previous_owner, lead.owner_id)
        owners_changed([change], by=by, reason=reason or "changed")
    if stage is not None:
        change_stage(
            lead,
            to=stage,
            by=by,
            reason=reason or "changed",
            override_reason=override_reason,
        )
    return lead


def owners_changed(
    changes: list[tuple[int, int | None, int | None]],
    *,
    by: User | None,
    reason: str,
    at: datetime | None = None,
) -> None:
    """Announce, inside the writer's transaction, owners just changed by a door other than the
    handoff's own: changes are (lead id, previous owner id, new owner id). The handoff logs
    each in its ownership log (every door that changes an owner calls this)."""
    if not changes:
        return
    payload = {
        "changes": [{"lead": pk, "from_owner": old, "to_owner": new} for pk, old, new in changes],
        "reason": reason,
        "at": (at or timezone.now()).isoformat(),
    }
    events.lead_owners_changing.send(sender=Lead, by=by, payload=payload)


@transaction.atomic
def delete_lead(lead: Lead, *, by: User | None) -> None:
    """Delete `lead` (its stage history, activities and roles on deals go with it).

    Read-only roles are refused; the audit log records who deleted it (the door's actor).
    """
    if by is not None:
        require_write(by)
    lead.delete()
