"""JSON API of the definitions contract (mounted at /api/v1/definitions).

Every role reads. Marketing, sales and admin users draft; the author or an admin edits or
withdraws a draft; marketing and sales users sign for their side. A body that fails validation
is a 422 naming each bad value (`body.mql_rule.min_engagement`); an action that does not fit
the version's state (signing a superseded version, signing twice) is a 409.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, ApiError, BodySchema, QuerySchema, not_found
from closedloop.core.models import User
from closedloop.definitions import services
from closedloop.definitions.models import ContractVersion, Side

router = Router(auth=token_auth, tags=["definitions"])


class SignoffOut(Schema):
    side: str
    user: str = Field(description="Email of the signer")
    signed_at: datetime.datetime


class VersionSummary(Schema):
    number: int
    status: str
    change_note: str
    based_on: int | None
    author: str | None = Field(description="Email of the author; null for the installed defaults")
    created_at: datetime.datetime
    activated_at: datetime.datetime | None
    superseded_at: datetime.datetime | None
    signoffs: list[SignoffOut]
    unsigned_sides: list[str]


class VersionOut(VersionSummary):
    body: dict[str, Any]


class DraftIn(BodySchema):
    body: dict[str, Any] | None = Field(
        None,
        description="The whole contract (shape of GET /definitions/active .body); "
        "omit to start from the contract in force",
    )
    change_note: str = Field("", max_length=2000)


class DraftPatch(BodySchema):
    body: dict[str, Any] | None = Field(None, description="The whole new contract body")
    change_note: str | None = Field(None, max_length=2000)


class ChangeOut(Schema):
    section: str
    kind: str
    text: str
    path: str


class DiffOut(Schema):
    from_version: int
    to_version: int
    changes: list[ChangeOut]


class SideOutcome(Schema):
    version: int
    mqls_per_week: list[int]
    mqls: int
    reached_opportunity: int
    won: int
    opportunity_rate: float | None
    won_rate: float | None


class SimulationOut(Schema):
    start: datetime.datetime
    end: datetime.datetime
    weeks: list[datetime.date] = Field(description="First day of each simulated week")
    candidate: SideOutcome
    active: SideOutcome
    leads: int
    touches: int
    seconds: float


def _out(version: ContractVersion) -> dict:
    signoffs = list(version.signoffs.select_related("user"))
    signed = {s.side for s in signoffs}
    return {
        "number": version.number,
        "status": version.status,
        "change_note": version.change_note,
        "based_on": version.based_on,
        "author": version.author.email if version.author else None,
        "created_at": version.created_at,
        "activated_at": version.activated_at,
        "superseded_at": version.superseded_at,
        "body": version.body,
        "signoffs": [
            {"side": s.side, "user": s.user.email, "signed_at": s.signed_at} for s in signoffs
        ],
        "unsigned_sides": [side for side in Side.values if side not in signed],
    }


def _version(number: int, field: str = "number") -> ContractVersion:
    version = ContractVersion.objects.select_related("author").filter(number=number).first()
    if version is None:
        raise not_found("contract version", number, field)
    return version


def _user(request) -> User:
    return request.auth


def _refusal(error: Exception) -> ApiError:
    """The standard error body for the services' refusals."""
    if isinstance(error, services.ContractInvalid):
        api_error = ApiError(422, "body", "invalid contract")
        api_error.errors = [
            {"field": f"body.{path}", "problem": problem} for path, problem in error.errors.items()
        ]
        return api_error
    return ApiError(409, "status", str(error))


@router.get("/definitions/active", response={200: VersionOut, **ERRORS})
def get_active(request):
    """The contract in force."""
    return _out(services.active_contract())


@router.get("/definitions/versions", response={200: list[VersionSummary], **ERRORS})
def list_versions(request):
    """Every version, newest first (a contract has tens of versions, not thousands: no paging)."""
    services.active_contract()  # the installed defaults are version 1, even before any change
    return [_out(v) for v in ContractVersion.objects.select_related("author")]


@router.get("/definitions/versions/{number}", response={200: VersionOut, **ERRORS})
def get_version(request, number: int):
    return _out(_version(number))


@router.post("/definitions/versions", response={201: VersionOut, **ERRORS})
def create_draft(request, payload: DraftIn):
    """Start a draft; it changes nothing until a marketing and a sales user have signed it."""
    try:
        draft = services.create_draft(
            by=_user(request), body=payload.body, change_note=payload.change_note
        )
    except (services.ContractInvalid, services.ContractStateError) as error:
        raise _refusal(error) from None
    return Status(201, _out(draft))


@router.patch("/definitions/versions/{number}", response={200: VersionOut, **ERRORS})
def update_draft(request, number: int, payload: DraftPatch):
    """Replace a draft's body and/or note. A changed body removes the draft's signatures."""
    version = _version(number)
    try:
        version = services.update_draft(
            version, by=_user(request), body=payload.body, change_note=payload.change_note
        )
    except (services.ContractInvalid, services.ContractStateError) as error:
        raise _refusal(error) from None
    return _out(version)


@router.post("/definitions/versions/{number}/withdraw", response={200: VersionOut, **ERRORS})
def withdraw_draft(request, number: int):
    try:
        version = services.withdraw_draft(_version(number), by=_user(request))
    except services.ContractStateError as error:
        raise _refusal(error) from None
    return _out(version)


@router.post("/definitions/versions/{number}/signoffs", response={201: VersionOut, **ERRORS})
def sign(request, number: int):
    """Sign the draft for your team; the second team's signature puts it in force (status
    "active") and every lead is rescored in the background."""
    version = _version(number)
    try:
        services.sign_contract(version, by=_user(request))
    except services.ContractStateError as error:
        raise _refusal(error) from None
    version.refresh_from_db()
    return Status(201, _out(version))


class DiffQuery(QuerySchema):
    from_version: int = Field(..., alias="from", description="Version number to compare from")
    to_version: int = Field(..., alias="to", description="Version number to compare to")


@router.get("/definitions/diff", response={200: DiffOut, **ERRORS})
def diff(request, query: Query[DiffQuery]):
    """What changed between two versions, one readable line per field."""
    old = _version(query.from_version, "from")
    new = _version(query.to_version, "to")
    changes = [c.as_dict() for c in services.diff_versions(old, new)]
    return {"from_version": old.number, "to_version": new.number, "changes": changes}


@router.get("/definitions/versions/{number}/simulation", response={200: SimulationOut, **ERRORS})
def simulate(request, number: int):
    """The last 13 weeks replayed under this version and under the contract in force."""
    result = services.simulate_contract(_version(number))
    return {
        **result,
        "candidate": {"version": result["candidate_version"], **result["candidate"]},
        "active": {"version": result["active_version"], **result["active"]},
    }
