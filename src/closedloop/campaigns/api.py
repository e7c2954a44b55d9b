"""Campaigns' JSON API under /api/v1/campaigns: everyone reads, marketing and admins write."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Router, Status

from closedloop.campaigns import services
from closedloop.campaigns.models import Campaign, CampaignType, Channel
from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import (
    DEFAULT_LIMIT,
    ERRORS,
    MAX_LIMIT,
    ApiError,
    BodySchema,
    Money,
    Ordering,
    OutSchema,
    PathId,
    not_found,
    paginate,
    partial_schema,
    sort_keys,
)

router = Router(auth=token_auth, tags=["campaigns"])

SORTS = {"created_at": datetime.datetime, "name": str, "cost": Decimal}
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Rows per page, 1–200")]


class CampaignOut(OutSchema):
    id: int
    name: str
    type: CampaignType
    channel: Channel
    starts_on: datetime.date
    ends_on: datetime.date | None
    cost: Decimal = Field(description="Cost over the campaign's dates")
    currency: str
    audience: str
    message: str
    owner: int | None = Field(validation_alias="owner_id")
    external_id: str
    created_at: datetime.datetime


class CampaignIn(BodySchema):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    type: CampaignType
    channel: Channel
    starts_on: datetime.date
    ends_on: datetime.date | None = None
    cost: Money = Decimal(0)
    currency: str = Field("USD", pattern=r"^[A-Za-z]{3}$")
    audience: str = Field("", max_length=300)
    message: str = Field("", max_length=5000)
    external_id: str = Field("", max_length=100)


CampaignPatch = partial_schema(CampaignIn, "CampaignPatch")  # type: ignore[arg-type]


class CampaignPage(OutSchema):
    items: list[CampaignOut]
    next_cursor: str | None


def _campaign(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise not_found("campaign", campaign_id)
    return campaign


def _refused(exc: services.InvalidCampaign) -> ApiError:
    return ApiError(422, exc.field, exc.problem)


@router.get("/campaigns", response={200: CampaignPage, **ERRORS})
def list_campaigns(
    request,
    sort: sort_keys(SORTS) = "-created_at",  # type: ignore[valid-type]
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
):
    """Every campaign (campaigns are shared by both teams), `limit` per page."""
    ordering = Ordering.parse(sort, SORTS)
    items, next_cursor = paginate(
        Campaign.objects.all(), ordering=ordering, cursor=cursor, limit=limit
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def get_campaign(request, campaign_id: PathId):
    return _campaign(campaign_id)


@router.post("/campaigns", response={201: CampaignOut, **ERRORS})
def create_campaign(request, payload: CampaignIn):
    """Create a campaign (marketing and admins); the caller owns it."""
    services.require_manage(request.auth)
    try:
        campaign = services.create_campaign(by=request.auth, **payload.dict())
    except services.InvalidCampaign as exc:
        raise _refused(exc) from None
    return Status(201, campaign)


@router.patch("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def update_campaign(request, campaign_id: PathId, payload: CampaignPatch):  # type: ignore[valid-type]
    """Change the fields sent (marketing and admins)."""
    services.require_manage(request.auth)
    campaign = _campaign(campaign_id)
    changes = payload.dict(exclude_unset=True)  # type: ignore[attr-defined]
    try:
        return services.update_campaign(campaign, by=request.auth, **changes)
    except services.InvalidCampaign as exc:
        raise _refused(exc) from None
