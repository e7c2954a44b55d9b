"""JSON API for outgoing webhooks (admins only): endpoints, their deliveries, test events."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Status

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import (
    DEFAULT_LIMIT,
    ERRORS,
    MAX_LIMIT,
    ApiError,
    BodySchema,
    Ordering,
    OutSchema,
    PathId,
    not_found,
    paginate,
)
from closedloop.core.models import Role
from closedloop.webhooks import services
from closedloop.webhooks.models import Delivery, DeliveryStatus, Endpoint

router = Router(auth=token_auth, tags=["webhooks"])


class EndpointOut(OutSchema):
    id: int
    url: str
    description: str
    events: list[str]
    secret: str = Field(description="HMAC-SHA256 key of X-Closedloop-Signature")
    is_active: bool
    created_at: datetime.datetime


WEBHOOK_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00]+$"


class EndpointIn(BodySchema):
    url: str = Field(max_length=2000, pattern=WEBHOOK_URL)
    events: list[str] = Field(min_length=1)
    description: str = Field("", max_length=200)


class EndpointPatch(BodySchema):
    url: str = Field(None, max_length=2000, pattern=WEBHOOK_URL)
    events: list[str] = Field(None, min_length=1)
    description: str = Field(None, max_length=200)
    is_active: bool = None


class DeliveryOut(OutSchema):
    id: int
    endpoint: int = Field(validation_alias="endpoint_id")
    event: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    response_code: int | None
    error: str
    created_at: datetime.datetime
    last_attempt_at: datetime.datetime | None
    next_attempt_at: datetime.datetime | None
    delivered_at: datetime.datetime | None


class DeliveryPage(OutSchema):
    items: list[DeliveryOut]
    next_cursor: str | None


def _admin(request):
    if request.auth.role != Role.ADMIN:
        raise PermissionDenied("webhooks are managed by admins")
    return request.auth


def _endpoint(endpoint_id: PathId) -> Endpoint:
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise not_found("endpoint", endpoint_id)
    return endpoint


def _invalid(exc: services.InvalidEndpoint) -> ApiError:
    return ApiError(422, exc.field, exc.problem)


@router.get("/webhooks/endpoints", response={200: list[EndpointOut], **ERRORS})
def list_endpoints(request):
    _admin(request)
    return list(Endpoint.objects.all())


@router.post("/webhooks/endpoints", response={201: EndpointOut, **ERRORS})
def create_endpoint(request, payload: EndpointIn):
    """Subscribe a URL; it is resolved and refused if internal (unless its host is allowed)."""
    user = _admin(request)
    try:
        endpoint = services.create_endpoint(by=user, **payload.dict())
    except services.InvalidEndpoint as exc:
        raise _invalid(exc) from None
    return Status(201, endpoint)


@router.get("/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def get_endpoint(request, endpoint_id: PathId):
    _admin(request)
    return _endpoint(endpoint_id)


@router.patch("/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def update_endpoint(request, endpoint_id: PathId, payload: EndpointPatch):
    """Change the URL, events, description, or disable with {"is_active": false}."""
    _admin(request)
    endpoint = _endpoint(endpoint_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    try:
        return services.update_endpoint(endpoint, **changes)
    except services.InvalidEndpoint as exc:
        raise _invalid(exc) from None


@router.post("/webhooks/endpoints/{endpoint_id}/test", response={202: DeliveryOut, **ERRORS})
def send_test_event(request, endpoint_id: PathId):
    """Queue a `webhook.test` delivery; poll the deliveries to see how it went."""
    user = _admin(request)
    delivery = services.send_test_event(_endpoint(endpoint_id), by=user)
    delivery.refresh_from_db()
    return Status(202, delivery)


@router.get("/webhooks/endpoints/{endpoint_id}/deliveries", response={200: DeliveryPage, **ERRORS})
def list_deliveries(
    request,
    endpoint_id: PathId,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
    status: DeliveryStatus | None = None,
):
    """The delivery log of an endpoint, newest first."""
    _admin(request)
    queryset = Delivery.objects.filter(endpoint=_endpoint(endpoint_id))
    if status is not None:
        queryset = queryset.filter(status=status)
    ordering = Ordering.parse("-created_at", {"created_at": datetime.datetime})
    items, next_cursor = paginate(queryset, ordering=ordering, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}
