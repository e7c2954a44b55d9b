"""Recording touchpoints one at a time (the API, forms). Bulk ingestion has its own path."""

from __future__ import annotations

import datetime

from django.db import transaction

from closedloop.core import events
from closedloop.engagement.models import Touchpoint


@transaction.atomic
def record_touchpoint(
    *,
    lead,
    type: str,
    occurred_at: datetime.datetime,
    campaign=None,
    content=None,
    channel: str = "",
    properties: dict | None = None,
    message_id: str | None = None,
) -> Touchpoint:
    """Store one touch of `lead` and, once committed, announce it so the lead is rescored.

    `type` is a TouchpointType value, `occurred_at` an aware datetime, `channel` a campaigns
    Channel value or "". Returns the new Touchpoint. A `message_id` that is already stored
    raises IntegrityError: callers that retry deliveries should look it up first.
    """
    touch = Touchpoint.objects.create(
        lead=lead,
        type=type,
        occurred_at=occurred_at,
        campaign=campaign,
        content=content,
        channel=channel,
        properties=properties or {},
        message_id=message_id,
    )
    lead_ids = [lead.pk] if lead is not None else []
    if lead_ids:
        transaction.on_commit(
            lambda: events.touchpoints_recorded.send(
                sender=Touchpoint, payload={"lead_ids": lead_ids}
            )
        )
    return touch
