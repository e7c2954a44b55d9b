"""The audit trail: every create, update and delete of an audited model becomes an AuditEntry.

Models opt in by inheriting `Audited`. Who did it and through which channel (UI, API, import,
job, CLI) is carried in a context variable that the request middleware, the API auth and the
commands set with `acting_as(...)`, so services never pass it around by hand.

Bulk loaders that bypass `save()` (the demo generator, imports) must call `record_bulk(...)`
so that the trail still says what happened.
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import models
from django.db.models.signals import post_delete, post_save

from closedloop.core.models import AuditAction, AuditEntry, AuditSource


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    source: str


_current: contextvars.ContextVar[Actor] = contextvars.ContextVar(
    "closedloop_actor",
    default=Actor(None, AuditSource.SYSTEM),  # noqa: B039 (frozen dataclass)
)


@contextmanager
def acting_as(user, source: str) -> Iterator[None]:
    """Attribute every audited change inside the block to `user` (or None) through `source`."""
    token = _current.set(Actor(getattr(user, "pk", None), source))
    try:
        yield
    finally:
        _current.reset(token)


def current_actor() -> Actor:
    return _current.get()


class Audited(models.Model):
    """Base for models whose changes are audited; remembers the values it was loaded with."""

    AUDIT_EXCLUDE: tuple[str, ...] = ("updated_at", "version")

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._audit_loaded = dict(zip(field_names, values, strict=True))
        return instance

    def audit_snapshot(self) -> dict:
        return {
            f.attname: getattr(self, f.attname)
            for f in self._meta.concrete_fields
            if f.attname not in self.AUDIT_EXCLUDE
        }


def _jsonable(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _diff(old: dict, new: dict) -> dict:
    return {
        name: [_jsonable(old.get(name)), _jsonable(value)]
        for name, value in new.items()
        if name in old and old.get(name) != value
    }


def _write(instance, action: str, changes: dict) -> None:
    actor = current_actor()
    AuditEntry.objects.create(
        actor_id=actor.user_id,
        source=actor.source,
        action=action,
        model=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes,
    )


def _after_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, Audited):
        return
    new = instance.audit_snapshot()
    if created:
        changes = {k: [None, _jsonable(v)] for k, v in new.items() if v not in (None, "")}
        _write(instance, AuditAction.CREATE, changes)
    else:
        changes = _diff(getattr(instance, "_audit_loaded", {}), new)
        if changes:
            _write(instance, AuditAction.UPDATE, changes)
    instance._audit_loaded = {**getattr(instance, "_audit_loaded", {}), **new}


def _after_delete(sender, instance, **kwargs):
    if isinstance(instance, Audited):
        old = {k: [_jsonable(v), None] for k, v in instance.audit_snapshot().items()}
        _write(instance, AuditAction.DELETE, old)


def record_change(instance, changes: dict, *, action: str = AuditAction.UPDATE) -> None:
    """Record a change that a field diff cannot tell (e.g. a rule an admin overrode and why),
    or one to a model that is not `Audited` (users, teams), made by a service: `changes` is
    {what: [before, after]}."""
    _write(instance, action, {k: [_jsonable(a), _jsonable(b)] for k, (a, b) in changes.items()})


def record_bulk(model: type[models.Model], *, count: int, description: str) -> None:
    """Record one entry for a bulk load that bypassed save(): what, how many and why."""
    actor = current_actor()
    AuditEntry.objects.create(
        actor_id=actor.user_id,
        source=actor.source,
        action=AuditAction.BULK,
        model=model._meta.label_lower,
        object_repr=description[:200],
        changes={"rows": count},
    )


def connect_signals() -> None:
    post_save.connect(_after_save, dispatch_uid="closedloop-audit-save")
    post_delete.connect(_after_delete, dispatch_uid="closedloop-audit-delete")
