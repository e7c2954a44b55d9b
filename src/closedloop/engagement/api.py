"""JSON API for touchpoints (mounted at /api/v1): list, get and record one.

A touchpoint is visible when its lead is; anonymous web touches (no lead yet) only to the
roles that see every lead. Touchpoints are append-only here: there is no update.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from django.db import IntegrityError
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from closedloop.campaigns.models import Campaign, Channel
from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import (
    DEFAULT_LIMIT,
    ERRORS,
    MAX_LIMIT,
    BodySchema,
    Id,
    Ordering,
    OutSchema,
    PathId,
    UtcDatetime,
    invalid,
    not_found,
    paginate,
    sort_keys,
    to_utc,
)
from closedloop.core.permissions import require_write, visible
from closedloop.crm.models import Lead
from closedloop.engagement.models import Touchpoint, TouchpointType
from closedloop.engagement.services import record_touchpoint

router = Router(auth=token_auth, tags=["touchpoints"])

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Rows per page, 1–200")]


class TouchpointOut(OutSchema):
    id: int
    lead: int | None = Field(None, validation_alias="lead_id")
    anonymous_id: str
    type: TouchpointType
    channel: str
    campaign: int | None = Field(None, validation_alias="campaign_id")
    content: int | None = Field(None, validation_alias="content_id")
    occurred_at: datetime.datetime
    received_at: datetime.datetime
    properties: dict[str, Any]
    message_id: str | None


class TouchpointIn(BodySchema):
    lead: Id = Field(description="Lead id")
    type: TouchpointType
    occurred_at: datetime.datetime = Field(
        description="With a time zone, e.g. 2025-03-01T09:30:00Z"
    )
    channel: Channel | Literal[""] = ""
    campaign: Id | None = None
    content: Id | None = Field(None, description="Content asset id")
    properties: dict[str, Any] = Field(default_factory=dict)
    message_id: str | None = Field(
        None, min_length=1, max_length=100, description="Unique per touch; a repeat is refused"
    )

    @field_validator("occurred_at")
    @classmethod
    def _aware_and_not_future(cls, value: datetime.datetime) -> datetime.datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2025-03-01T09:30:00Z")
        value = to_utc(value)
        # A little slack for clients whose clocks run ahead.
        if value > timezone.now() + datetime.timedelta(minutes=5):
            raise ValueError("is in the future")
        return value


class TouchpointFilters(Schema):
    lead: Id | None = None
    type: TouchpointType | None = None
    campaign: Id | None = None
    since: UtcDatetime | None = Field(
        None, description="occurred_at at or after this; without a time zone: UTC"
    )


class TouchpointPage(OutSchema):
    items: list[TouchpointOut]
    next_cursor: str | None


SORTS = {"occurred_at": datetime.datetime}


def _visible_touchpoints(user):
    return visible(Touchpoint.objects.all(), user, via="lead")


@router.get("/touchpoints", response={200: TouchpointPage, **ERRORS})
def list_touchpoints(
    request,
    filters: Query[TouchpointFilters],
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
    sort: sort_keys(SORTS) = "-occurred_at",  # type: ignore[valid-type]
):
    """Touchpoints the token's user may see, most recent first by default."""
    ordering = Ordering.parse(sort, SORTS)
    exact = {
        "lead_id": filters.lead,
        "type": filters.type,
        "campaign_id": filters.campaign,
        "occurred_at__gte": filters.since,
    }
    queryset = _visible_touchpoints(request.auth).filter(
        **{k: v for k, v in exact.items() if v is not None}
    )
    items, next_cursor = paginate(queryset, ordering=ordering, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/touchpoints/{touchpoint_id}", response={200: TouchpointOut, **ERRORS})
def get_touchpoint(request, touchpoint_id: PathId):
    touch = _visible_touchpoints(request.auth).filter(pk=touchpoint_id).first()
    if touch is None:
        raise not_found("touchpoint", touchpoint_id)
    return touch


@router.post("/touchpoints", response={201: TouchpointOut, **ERRORS})
def create_touchpoint(request, payload: TouchpointIn):
    """Record a touch of a lead you can see; the lead is rescored in the background."""
    # The asset model through the foreign key: content sits above engagement (it records
    # the views of shared links through engagement's services).
    ContentAsset = Touchpoint._meta.get_field("content").related_model

    user = request.auth
    require_write(user)
    lead = visible(Lead.objects.all(), user).filter(pk=payload.lead).first()
    if lead is None:
        raise invalid("lead", f"no lead with id {payload.lead}")
    campaign = _optional(Campaign, payload.campaign, "campaign")
    content = _optional(ContentAsset, payload.content, "content")
    if payload.message_id and Touchpoint.objects.filter(message_id=payload.message_id).exists():
        raise invalid("message_id", "a touchpoint with this message_id is already stored")
    try:
        touch = record_touchpoint(
            lead=lead,
            type=payload.type,
            occurred_at=payload.occurred_at,
            campaign=campaign,
            content=content,
            channel=payload.channel,
            properties=payload.properties,
            message_id=payload.message_id,
        )
    except IntegrityError:  # the same message_id arrived concurrently
        raise invalid("message_id", "a touchpoint with this message_id is already stored") from None
    return Status(201, touch)


def _optional(model, pk: int | None, field: str):
    if pk is None:
        return None
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise invalid(field, f"no {field} with id {pk}")
    return row
