"""JSON API of sharing, usage figures and content requests.

POST /api/v1/content/assets/{asset_id}/share      a tracked link for a lead (the URL once)
POST /api/v1/content/assets/{asset_id}/usage      log an open, download or presentation
GET  /api/v1/content/assets/{asset_id}/figures    the asset's usage and influence (marketing)
POST /api/v1/content/links/{link_id}/revoke       revoke a link
GET  /api/v1/content/report                       the library's figures and bottom 20% (marketing)
GET  /api/v1/content/requests                     your requests (marketing: all)
POST /api/v1/content/requests                     ask marketing for content
GET  /api/v1/content/requests/{request_id}
POST /api/v1/content/requests/{request_id}/take | /fulfil | /decline   marketing
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from ninja import Field, Router, Status

from closedloop.content.models import ContentAsset
from closedloop.content.permissions import sees_all, visible_assets
from closedloop.content.services import requests as request_service
from closedloop.content.services import sharing, usage
from closedloop.content.share_views import may_revoke
from closedloop.content.usage_models import ShareLink, Urgency
from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, BodySchema, OutSchema, PathId, invalid, not_found
from closedloop.core.permissions import visible
from closedloop.crm.models import Lead, Opportunity
from closedloop.crm.permissions import opportunity_visibility

router = Router(auth=token_auth, tags=["content"])


class ShareIn(BodySchema):
    lead: int = Field(ge=1)
    opportunity: int | None = Field(None, ge=1)
    days: int | None = Field(30, ge=1, le=sharing.MAX_LINK_DAYS, description="null: until revoked")


class LinkOut(OutSchema):
    id: int
    asset: int = Field(validation_alias="asset_id")
    lead: int = Field(validation_alias="lead_id")
    opportunity: int | None = Field(validation_alias="opportunity_id")
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    views: int
    last_viewed_at: datetime.datetime | None


class SharedOut(LinkOut):
    url: str = Field(description="shown once: only a hash of its token is kept")


class UsageIn(BodySchema):
    kind: str = Field(pattern="^(open|download|present)$")
    lead: int | None = Field(None, ge=1)


class UsageOut(OutSchema):
    id: int
    asset: int = Field(validation_alias="asset_id")
    kind: str
    lead: int | None = Field(validation_alias="lead_id")
    at: datetime.datetime


class RequestIn(BodySchema):
    what: str = Field(min_length=1, max_length=2000)
    lead: int | None = Field(None, ge=1)
    opportunity: int | None = Field(None, ge=1)
    needed_by: datetime.date | None = None
    urgency: Urgency = Urgency.NORMAL


class RequestOut(OutSchema):
    id: int
    what: str
    requested_by: int | None = Field(validation_alias="requested_by_id")
    lead: int | None = Field(validation_alias="lead_id")
    opportunity: int | None = Field(validation_alias="opportunity_id")
    needed_by: datetime.date | None
    urgency: str
    status: str
    assignee: int | None = Field(validation_alias="assignee_id")
    due_at: datetime.datetime
    fulfilled_by: int | None = Field(validation_alias="fulfilled_by_id")
    answer: str
    searches: list[int] = Field(validation_alias="search_ids")
    created_at: datetime.datetime
    closed_at: datetime.datetime | None


class FulfilIn(BodySchema):
    asset: int = Field(ge=1)
    answer: str = Field("", max_length=2000)


class DeclineIn(BodySchema):
    answer: str = Field(min_length=1, max_length=2000)


def _asset(request, asset_id: int) -> ContentAsset:
    asset = visible_assets(request.auth).filter(pk=asset_id).first()
    if asset is None:
        raise not_found("asset", asset_id)
    return asset


def _lead(request, lead_id: int, field: str = "lead") -> Lead:
    lead = visible(Lead.objects.all(), request.auth).filter(pk=lead_id).first()
    if lead is None:
        raise invalid(field, f"no lead with id {lead_id}")
    return lead


def _opportunity(request, opportunity_id: int | None) -> Opportunity | None:
    if opportunity_id is None:
        return None
    rule = opportunity_visibility(request.auth)
    opps = Opportunity.objects.all() if rule is None else Opportunity.objects.filter(rule)
    found = opps.filter(pk=opportunity_id).first()
    if found is None:
        raise invalid("opportunity", f"no opportunity with id {opportunity_id}")
    return found


def _require_write(user) -> None:
    if not user.can_write:
        raise PermissionDenied("read-only users change nothing")


@router.post("/content/assets/{asset_id}/share", response={201: SharedOut, **ERRORS})
def share_asset(request, asset_id: PathId, payload: ShareIn):
    """A tracked link of the asset for a lead you can see; opening it records a content view
    of the lead and tells you. The URL is in this answer only."""
    _require_write(request.auth)
    asset = _asset(request, asset_id)
    link, token = sharing.share_asset(
        asset,
        lead=_lead(request, payload.lead),
        by=request.auth,
        opportunity=_opportunity(request, payload.opportunity),
        days=payload.days,
    )
    url = request.build_absolute_uri(reverse("content-share-open", args=[token]))
    setattr(link, "url", url)  # noqa: B010 (read by the schema)
    return Status(201, SharedOut.model_validate(link))


@router.post("/content/assets/{asset_id}/usage", response={201: UsageOut, **ERRORS})
def log_usage(request, asset_id: PathId, payload: UsageIn):
    """Record that you opened, downloaded or presented the asset (sharing records itself)."""
    _require_write(request.auth)
    asset = _asset(request, asset_id)
    lead = None if payload.lead is None else _lead(request, payload.lead)
    return Status(201, sharing.record_usage(asset, by=request.auth, kind=payload.kind, lead=lead))


def _require_marketing(request, kind: str = "", pk: int = 0) -> None:
    if not sees_all(request.auth):
        raise not_found(kind, pk) if kind else PermissionDenied("marketing's report")


@router.get("/content/assets/{asset_id}/figures", response={200: dict, **ERRORS})
def asset_figures(request, asset_id: PathId):
    """Usage, influence (pipeline and won revenue), win-rate lift with its interval,
    freshness and the bottom-20% reason of one asset. Marketing, admins and executives."""
    _require_marketing(request, "asset", asset_id)
    asset = _asset(request, asset_id)
    return usage.asset_row(usage.library_report(), asset.pk)


@router.get("/content/report", response={200: dict, **ERRORS})
def library_report(request):
    """The library's figures, the bottom 20% with why, and every asset's figures."""
    _require_marketing(request)
    report = usage.library_report()
    return {**usage.library_summary(report), "assets": report.rows()}


@router.post("/content/links/{link_id}/revoke", response={200: LinkOut, **ERRORS})
def revoke_link(request, link_id: PathId):
    link = ShareLink.objects.filter(pk=link_id).first()
    if link is None or not may_revoke(request.auth, link):
        raise not_found("link", link_id)
    _require_write(request.auth)
    return sharing.revoke_link(link, by=request.auth)


def _request_out(item) -> RequestOut:
    setattr(item, "search_ids", [s.pk for s in item.searches.all()])  # noqa: B010
    return RequestOut.model_validate(item)


@router.get("/content/requests", response={200: list[RequestOut], **ERRORS})
def list_requests(request, status: str = "open"):
    items = request_service.visible_requests(request.auth).prefetch_related("searches")
    if status == "open":
        items = items.filter(status__in=["open", "in_progress"]).order_by("due_at")
    return [_request_out(item) for item in items[:500]]


@router.post("/content/requests", response={201: RequestOut, **ERRORS})
def create_request(request, payload: RequestIn):
    """Ask marketing for content, for a lead or opportunity you can see."""
    _require_write(request.auth)
    item = request_service.request_content(
        by=request.auth,
        what=payload.what,
        lead=None if payload.lead is None else _lead(request, payload.lead),
        opportunity=_opportunity(request, payload.opportunity),
        needed_by=payload.needed_by,
        urgency=payload.urgency,
    )
    return Status(201, _request_out(item))


def _visible_request(request, request_id: int):
    item = request_service.visible_requests(request.auth).filter(pk=request_id).first()
    if item is None:
        raise not_found("request", request_id)
    return item


@router.get("/content/requests/{request_id}", response={200: RequestOut, **ERRORS})
def get_request(request, request_id: PathId):
    return _request_out(_visible_request(request, request_id))


@router.post("/content/requests/{request_id}/take", response={200: RequestOut, **ERRORS})
def take_request(request, request_id: PathId):
    item = _visible_request(request, request_id)
    request_service.take_request(item, by=request.auth)
    return _request_out(item)


@router.post("/content/requests/{request_id}/fulfil", response={200: RequestOut, **ERRORS})
def fulfil_request(request, request_id: PathId, payload: FulfilIn):
    item = _visible_request(request, request_id)
    asset = ContentAsset.objects.filter(pk=payload.asset).first()
    if asset is None:
        raise invalid("asset", f"no asset with id {payload.asset}")
    request_service.fulfil_request(item, by=request.auth, asset=asset, answer=payload.answer)
    return _request_out(item)


@router.post("/content/requests/{request_id}/decline", response={200: RequestOut, **ERRORS})
def decline_request(request, request_id: PathId, payload: DeclineIn):
    item = _visible_request(request, request_id)
    request_service.decline_request(item, by=request.auth, answer=payload.answer)
    return _request_out(item)
