"""The handoff's listeners on domain events (connected in HandoffConfig.ready)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from closedloop.core import events
from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource


def _became_mql(sender, lead=None, payload=None, **kwargs):
    from closedloop.handoff.services import on_became_mql

    at = payload.get("at") if payload else None
    on_became_mql(lead, at=datetime.fromisoformat(at) if at else timezone.now())


def _touchpoints(sender, payload=None, **kwargs):
    from closedloop.handoff.services import return_reengaged_leads

    lead_ids = (payload or {}).get("lead_ids") or []
    if lead_ids:
        with acting_as(None, AuditSource.JOB):
            return_reengaged_leads(lead_ids)


def _owners_changing(sender, by=None, payload=None, **kwargs):
    from closedloop.handoff.services import record_owner_changes

    payload = payload or {}
    record_owner_changes(
        payload.get("changes") or [],
        by=by,
        reason=payload.get("reason", ""),
        at=datetime.fromisoformat(payload["at"]) if payload.get("at") else timezone.now(),
    )


def connect() -> None:
    events.lead_became_mql.connect(_became_mql, dispatch_uid="handoff-mql")
    events.touchpoints_recorded.connect(_touchpoints, dispatch_uid="handoff-reengaged")
    events.lead_owners_changing.connect(_owners_changing, dispatch_uid="handoff-owners")
