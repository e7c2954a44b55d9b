"""Campaign writes: every door (pages, API, admin, demo) creates and edits campaigns here.

Marketing and admins run campaigns; everyone else reads them (sales sees the audience and the
message). A campaign's cost covers its dates: `cost_in_period` spreads it evenly over its days,
which is what the ROI figures of a period use (docs/decisions/0021-campaign-costs-and-roi.md).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from closedloop.campaigns.models import Campaign, CampaignType, Channel
from closedloop.core.models import Role, User

EDITABLE = (
    "name",
    "type",
    "channel",
    "starts_on",
    "ends_on",
    "cost",
    "currency",
    "audience",
    "message",
    "owner",
    "external_id",
)
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_COST = Decimal("999999999999.99")
# An open-ended campaign's cost is spread over this many days from its start.
OPEN_ENDED_DAYS = 365


class InvalidCampaign(ValueError):
    """A refused value, naming the field (pages show it beside the field, the API as 422)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


def can_manage_campaigns(user: User) -> bool:
    """Marketing and admins create and edit campaigns; everyone reads them."""
    return user.role in (Role.MARKETING, Role.ADMIN)


def require_manage(user: User) -> None:
    if not can_manage_campaigns(user):
        raise PermissionDenied("campaigns are run by marketing")


def create_campaign(*, by: User, **values: Any) -> Campaign:
    """A new campaign from `values` (the EDITABLE fields); the owner defaults to `by`."""
    require_manage(by)
    values.setdefault("owner", by)
    campaign = Campaign()
    _assign(campaign, values)
    with transaction.atomic():
        campaign.save()
    return campaign


def update_campaign(campaign: Campaign, *, by: User, **changes: Any) -> Campaign:
    """Change the given EDITABLE fields of `campaign`; unnamed fields keep their values."""
    require_manage(by)
    _assign(campaign, changes)
    with transaction.atomic():
        campaign.save()
    return campaign


def _assign(campaign: Campaign, values: dict[str, Any]) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidCampaign(field, "is not a campaign field")
    for field, value in values.items():
        setattr(campaign, field, _clean(field, value))
    _check(campaign)


def _clean(field: str, value: Any) -> Any:
    if field in ("name", "audience", "message", "external_id"):
        return (value or "").strip()
    if field == "currency":
        return (value or "").strip().upper()
    if field == "cost":
        return _money(value)
    return value


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidCampaign("cost", "must be a number") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_COST:
        raise InvalidCampaign("cost", "must be between 0 and 999,999,999,999.99")
    return amount


def _check(campaign: Campaign) -> None:
    if not campaign.name:
        raise InvalidCampaign("name", "is required")
    if len(campaign.name) > 200:
        raise InvalidCampaign("name", "is longer than 200 characters")
    if campaign.type not in CampaignType.values:
        raise InvalidCampaign("type", f"must be one of {', '.join(CampaignType.values)}")
    if campaign.channel not in Channel.values:
        raise InvalidCampaign("channel", f"must be one of {', '.join(Channel.values)}")
    if not isinstance(campaign.starts_on, date):
        raise InvalidCampaign("starts_on", "is required")
    if campaign.ends_on is not None and campaign.ends_on < campaign.starts_on:
        raise InvalidCampaign("ends_on", "must be on or after the start")
    if not CURRENCY.match(campaign.currency or ""):
        raise InvalidCampaign("currency", "must be a three-letter ISO 4217 code such as USD")
    if campaign.owner is not None and not campaign.owner.is_active:
        raise InvalidCampaign("owner", "is not an active user")


def campaign_days(campaign: Campaign) -> tuple[date, date]:
    """First and last day the cost covers (an open-ended campaign: OPEN_ENDED_DAYS)."""
    last = campaign.ends_on or campaign.starts_on + timedelta(days=OPEN_ENDED_DAYS - 1)
    return campaign.starts_on, last


def cost_in_period(campaign: Campaign, first: date, last: date) -> Decimal:
    """The part of the campaign's cost that falls on the days first..last (inclusive).

    The cost is spread evenly over the campaign's days, so a quarter's figures carry the
    quarter's share of a campaign that ran across two quarters.
    """
    start, end = campaign_days(campaign)
    overlap = (min(end, last) - max(start, first)).days + 1
    if overlap <= 0:
        return Decimal("0.00")
    days = (end - start).days + 1
    return (campaign.cost * overlap / days).quantize(Decimal("0.01"))
