"""Optimistic concurrency for the versioned records (accounts, leads, opportunities).

`save_if_version` is a conditional `UPDATE ... WHERE version = n`: a stale writer gets
StaleVersion (the API answers 412) and loses nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closedloop.core.concurrency import StaleVersion  # raised here, answered as 412 by the API


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


def set_changed(instance, values: dict) -> list[str]:
    """Set the attributes of `instance` that differ from `values`; returns the changed names."""
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def save_changed(instance, *, expected_version: int | None, fields: list[str]) -> None:
    """`save_if_version` for the `fields` that changed; with none changed, only the version
    check (a stale If-Match is refused even when the change would be a no-op)."""
    if fields:
        save_if_version(instance, expected_version=expected_version, fields=fields)
    elif expected_version is not None and expected_version != instance.version:
        raise StaleVersion(f"{type(instance).__name__} {instance.pk}")


def bulk_save(model, objects: list, fields: set[str]) -> None:
    """Save `fields` of many loaded `objects` in bulk, raising each one's version by one."""
    if not objects:
        return
    now = timezone.now()
    for obj in objects:
        obj.version = (obj.version or 0) + 1
        obj.updated_at = now
    model.objects.bulk_update(objects, sorted(set(fields) | {"version", "updated_at"}))
