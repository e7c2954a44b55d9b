"""The shared ways to change a lead. Stages never change silently: always through change_stage."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closedloop.core import events
from closedloop.core.concurrency import StaleVersion  # raised here, answered as 412
from closedloop.crm.models import Lead, LifecycleStage, StageChange


@transaction.atomic
def change_stage(
    lead: Lead, *, to: str, by=None, reason: str = "", rule_version: int | None = None, at=None
) -> StageChange | None:
    """Move `lead` to stage `to`, recording who, when, why and which rule version.

    Returns the StageChange, or None when the lead already is at that stage.
    """
    if to not in LifecycleStage.values:
        raise ValueError(f"unknown lifecycle stage {to!r}")
    if lead.lifecycle_stage == to:
        return None
    at = at or timezone.now()
    change = StageChange.objects.create(
        lead=lead,
        from_stage=lead.lifecycle_stage,
        to_stage=to,
        at=at,
        by=by,
        reason=reason[:300],
        rule_version=rule_version,
    )
    lead.lifecycle_stage = to
    update_fields = ["lifecycle_stage", "version", "updated_at"]
    if to == LifecycleStage.MQL and lead.mql_at is None:
        lead.mql_at = at
        update_fields.append("mql_at")
    lead.version = F("version") + 1
    lead.save(update_fields=update_fields)
    lead.refresh_from_db(fields=["version"])
    payload = {
        "lead_id": lead.pk,
        "from": change.from_stage,
        "to": to,
        "reason": change.reason,
        "rule_version": rule_version,
        "at": at.isoformat(),
    }
    transaction.on_commit(
        lambda: events.lead_stage_changed.send(sender=Lead, lead=lead, payload=payload)
    )
    if to == LifecycleStage.MQL:
        transaction.on_commit(
            lambda: events.lead_became_mql.send(sender=Lead, lead=lead, payload=payload)
        )
    return change


def save_if_version(instance, *, expected_version: int | None, fields: list[str]) -> None:
    """Save `fields` of a Versioned instance only if its stored version is `expected_version`.

    With expected_version None the write is unconditional. A conditional UPDATE (not a read
    then a write) so two writers racing cannot both win.
    """
    model = type(instance)
    values = {name: getattr(instance, name) for name in fields}
    values["version"] = F("version") + 1
    values["updated_at"] = timezone.now()
    rows = model.objects.filter(pk=instance.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    with transaction.atomic():
        if rows.update(**values) != 1:
            raise StaleVersion(
                f"{model.__name__} {instance.pk} changed since version {expected_version}"
            )
        _audit_update(instance, fields)
    instance.refresh_from_db(fields=["version", "updated_at"])


def _audit_update(instance, fields: list[str]) -> None:
    # QuerySet.update() skips post_save, so write the audit entry for the change here.
    from closedloop.core.audit import _diff, _write

    loaded = getattr(instance, "_audit_loaded", {})
    new = {name: getattr(instance, model_attname(instance, name)) for name in fields}
    old = {
        model_attname(instance, name): loaded.get(model_attname(instance, name)) for name in fields
    }
    changes = _diff(old, {model_attname(instance, n): v for n, v in new.items()})
    if changes:
        _write(instance, "update", changes)
    instance._audit_loaded = {**loaded, **{model_attname(instance, n): v for n, v in new.items()}}


def model_attname(instance, name: str) -> str:
    return instance._meta.get_field(name).attname
