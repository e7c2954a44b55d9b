"""JSON API of a person's data (admins only): a copy of everything held, and erasure."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from ninja import Field, Router

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, ApiError, BodySchema
from closedloop.core.models import Role
from closedloop.privacy import services

router = Router(auth=token_auth, tags=["privacy"])


class PersonIn(BodySchema):
    # BodySchema, not ninja's Schema: a NUL in the email is a 422 (PostgreSQL cannot store or
    # compare it, which was a 500 found by schemathesis), and a body that is not an object too.
    email: str = Field(min_length=3, max_length=254, description="The person's email")


def _admin(request) -> None:
    if request.auth.role != Role.ADMIN:
        raise PermissionDenied("a person's data is exported and erased by admins")


@router.post("/people/export", response={200: dict[str, Any], **ERRORS})
def export_person(request, body: PersonIn):
    """Everything held about the person with this email, as one document."""
    _admin(request)
    try:
        return services.export_person(email=body.email)
    except services.PersonNotFound as exc:
        raise ApiError(404, "email", str(exc)) from exc


@router.post("/people/erase", response={200: dict[str, int], **ERRORS})
def erase_person(request, body: PersonIn):
    """Erase the person's personal data everywhere; returns how many rows of each kind changed."""
    _admin(request)
    try:
        return services.erase_person(email=body.email)
    except services.PersonNotFound as exc:
        raise ApiError(404, "email", str(exc)) from exc
