"""JSON API for leads, accounts and opportunities (mounted at /api/v1).

Reads are restricted to what the token's user may see (another team's lead is a 404, not a
403); executives are read-only; owners change only as `check_can_assign` allows. Updates are
PATCH with optional `If-Match: "<version>"` (from the ETag of a GET): a stale version is a 412
and nothing changes. This module holds the schemas, the visibility and permission checks and
the turning of ids into records; every write is a call of a `closedloop.crm.services` function.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Query, Router, Status
from pydantic import AfterValidator

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import (
    DEFAULT_LIMIT,
    ERRORS,
    MAX_LIMIT,
    ApiError,
    BodySchema,
    Email,
    Id,
    Money,
    Ordering,
    OutSchema,
    PathId,
    QuerySchema,
    UtcDatetime,
    expected_version,
    invalid,
    not_found,
    paginate,
    partial_schema,
    set_etag,
    sort_keys,
)
from closedloop.core.models import User
from closedloop.core.permissions import require_write, visible
from closedloop.crm import services
from closedloop.crm.filters import LeadFilters, narrow_leads, normalise_search
from closedloop.crm.models import (
    Account,
    Lead,
    LeadSource,
    LeadStatus,
    LifecycleStage,
    Opportunity,
)
from closedloop.crm.permissions import account_visibility, opportunity_visibility
from closedloop.crm.services import DomainTaken
from closedloop.vocabulary import CURRENCIES

router = Router(auth=token_auth)


def _country(value: str) -> str:
    value = value.strip().upper()
    if value and not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("use a two-letter ISO 3166 country code such as US or DE")
    return value


def _domain(value: str) -> str:
    value = value.strip().lower().removeprefix("www.")
    if value and not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value):
        raise ValueError("is not a domain name like example.com")
    return value


Country = Annotated[str, AfterValidator(_country)]
Domain = Annotated[str, AfterValidator(_domain)]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Rows per page, 1–200")]
CursorParam = Annotated[
    str | None, Field(description="next_cursor of the previous page; omit for the first")
]


# --- helpers shared by the three resources ------------------------------------------------


def _user_of(request) -> User:
    return request.auth


def _active_user(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise invalid(field, f"no active user with id {pk}")
    return user


def _visible_accounts(user: User):
    rule = account_visibility(user)
    if rule is None:
        return Account.objects.all()
    # The rule reaches through leads; a subquery keeps one row per account.
    return Account.objects.filter(pk__in=Account.objects.filter(rule).values("pk"))


def _visible_opportunities(user: User):
    rule = opportunity_visibility(user)
    found = Opportunity.objects.all() if rule is None else Opportunity.objects.filter(rule)
    return services.with_probability(found)


def opportunity_out(opportunity: Opportunity) -> Opportunity:
    """`opportunity` as the API shows it: with its stage's probability."""
    opportunity.probability = services.stage_probability(opportunity.stage)  # type: ignore[attr-defined]
    return opportunity


def _account_for(user: User, pk: int | None, field: str) -> Account | None:
    if pk is None:
        return None
    account = _visible_accounts(user).filter(pk=pk).first()
    if account is None:
        raise invalid(field, f"no account with id {pk}")
    return account


def _campaign_for(pk: int | None, field: str):
    from closedloop.campaigns.models import Campaign

    if pk is None:
        return None
    campaign = Campaign.objects.filter(pk=pk).first()
    if campaign is None:
        raise invalid(field, f"no campaign with id {pk}")
    return campaign


# --- leads --------------------------------------------------------------------------------


_ENTERED = "The first time the lead entered this stage (null: never); kept by every stage move"


class LeadOut(OutSchema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    seniority: str
    company: str
    account: int | None = Field(None, validation_alias="account_id")
    industry: str
    employees: int | None
    country: str
    city: str
    lifecycle_stage: LifecycleStage
    status: LeadStatus
    owner: int | None = Field(None, validation_alias="owner_id")
    source: LeadSource
    original_campaign: int | None = Field(None, validation_alias="original_campaign_id")
    external_id: str
    fit_grade: str = Field(description="A+ … F, or empty before the first scoring")
    engagement_score: float
    conversion_probability: float | None
    score: int = Field(description="0–100")
    subscriber_at: datetime.datetime | None = Field(description=_ENTERED)
    lead_at: datetime.datetime | None = Field(description=_ENTERED)
    mql_at: datetime.datetime | None = Field(description=_ENTERED)
    sal_at: datetime.datetime | None = Field(description=_ENTERED)
    sql_at: datetime.datetime | None = Field(description=_ENTERED)
    opportunity_at: datetime.datetime | None = Field(description=_ENTERED)
    customer_at: datetime.datetime | None = Field(description=_ENTERED)
    recycled_at: datetime.datetime | None = Field(description=_ENTERED)
    disqualified_at: datetime.datetime | None = Field(description=_ENTERED)
    assigned_at: datetime.datetime | None
    first_touched_at: datetime.datetime | None
    recycle_at: datetime.date | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int = Field(description='Send as If-Match: "<version>" to update safely')


class LeadIn(BodySchema):
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    email: Email = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    title: str = Field("", max_length=150)
    seniority: str = Field("", max_length=40)
    company: str = Field("", max_length=200)
    account: Id | None = Field(None, description="Account id")
    industry: str = Field("", max_length=80)
    employees: int | None = Field(None, ge=0, le=2**31 - 1)
    country: Country = Field("", description="ISO 3166 alpha-2, upper case")
    city: str = Field("", max_length=100)
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD
    stage_reason: str = Field("", max_length=300, description="Why the stage changes (history)")
    status: LeadStatus = LeadStatus.NEW
    owner: Id | None = Field(None, description="User id; changing it needs a manager or admin")
    source: LeadSource = LeadSource.OTHER
    original_campaign: Id | None = Field(None, description="Campaign id")
    external_id: str = Field("", max_length=100)
    recycle_at: datetime.date | None = None


class LeadPatch(partial_schema(LeadIn, "LeadPatchFields")):
    stage_override_reason: str = Field(
        "",
        max_length=300,
        description="Admins only: move `lifecycle_stage` outside the contract's lifecycle, "
        "for this reason (kept in the stage history and the audit log)",
    )


LEAD_SORTS = {"created_at": datetime.datetime, "updated_at": datetime.datetime, "score": int}


class LeadQuery(QuerySchema):
    """The query parameters of GET /leads, typed; they fill crm.filters.LeadFilters."""

    stage: LifecycleStage | None = None
    status: LeadStatus | None = None
    owner: Id | None = Field(None, description="Owner's user id")
    source: LeadSource | None = None
    campaign: Id | None = Field(None, description="Original campaign id")
    score_min: int | None = Field(None, ge=0, le=100)
    score_max: int | None = Field(None, ge=0, le=100)
    updated_since: UtcDatetime | None = Field(None, description="Without a time zone: UTC")
    q: str | None = Field(
        None,
        max_length=100,
        description="Words to search in name, email and company; every word must match",
    )
    sort: sort_keys(LEAD_SORTS) = Field(  # type: ignore[valid-type]
        "-created_at", description="created_at, updated_at or score; - for newest first"
    )


class LeadPage(OutSchema):
    items: list[LeadOut]
    next_cursor: str | None


def _lead_for(user: User, lead_id: int) -> Lead:
    lead = visible(Lead.objects.all(), user).filter(pk=lead_id).first()
    if lead is None:
        raise not_found("lead", lead_id)
    return lead


def _filter_leads(queryset, f: LeadQuery):
    """The page's filters and search rule (every word must match), fed from the query."""
    return narrow_leads(
        queryset,
        LeadFilters(
            stage=f.stage or "",
            status=f.status or "",
            owner=f.owner,
            source=f.source or "",
            campaign=f.campaign,
            score_min=f.score_min,
            score_max=f.score_max,
            updated_since=f.updated_since,
            q=normalise_search(f.q or ""),
        ),
    )


@router.get("/leads", response={200: LeadPage, **ERRORS}, tags=["leads"])
def list_leads(
    request, filters: Query[LeadQuery], limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None
):
    """Leads the token's user may see, newest first unless `sort` says otherwise."""
    ordering = Ordering.parse(filters.sort, LEAD_SORTS)
    queryset = _filter_leads(visible(Lead.objects.all(), _user_of(request)), filters)
    items, next_cursor = paginate(queryset, ordering=ordering, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, tags=["leads"])
def get_lead(request, lead_id: PathId, response: HttpResponse):
    lead = _lead_for(_user_of(request), lead_id)
    set_etag(response, lead.version)
    return lead


def _lead_refs(user: User, data: dict) -> dict:
    """Turn the id fields of a lead payload into objects (422 naming the field if unknown)."""
    refs = {}
    if "owner" in data:
        refs["owner"] = _active_user(data.pop("owner"), "owner")
    if "account" in data:
        refs["account"] = _account_for(user, data.pop("account"), "account")
    if "original_campaign" in data:
        refs["original_campaign"] = _campaign_for(
            data.pop("original_campaign"), "original_campaign"
        )
    return refs


@router.post("/leads", response={201: LeadOut, **ERRORS}, tags=["leads"])
def create_lead(request, payload: LeadIn, response: HttpResponse):
    """Create a lead. Its stage is set through change_stage, so the history shows who and why."""
    user = _user_of(request)
    require_write(user)
    data = payload.dict()
    stage, reason = data.pop("lifecycle_stage"), data.pop("stage_reason")
    data.update(_lead_refs(user, data))
    lead = services.create_lead(
        by=user, fields=data, stage=stage, reason=reason or "created through the API"
    )
    set_etag(response, lead.version)
    return Status(201, lead)


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, tags=["leads"])
def update_lead(request, lead_id: PathId, payload: LeadPatch, response: HttpResponse):
    """Change the fields sent. With If-Match, only if the lead is still at that version."""
    user = _user_of(request)
    lead = _lead_for(user, lead_id)
    require_write(user)
    expected = expected_version(request)
    data = payload.dict(exclude_unset=True)
    stage, reason = data.pop("lifecycle_stage", None), data.pop("stage_reason", "") or ""
    override = data.pop("stage_override_reason", "") or ""
    data.update(_lead_refs(user, data))
    lead = services.update_lead(
        lead,
        by=user,
        changes=data,
        stage=stage,
        reason=reason or "changed through the API",
        expected_version=expected,
        override_reason=override,
    )
    set_etag(response, lead.version)
    return lead


# --- accounts -----------------------------------------------------------------------------


class AccountOut(OutSchema):
    id: int
    name: str
    domain: str
    industry: str
    employees: int | None
    annual_revenue: Decimal | None
    country: str
    owner: int | None = Field(None, validation_alias="owner_id")
    external_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int


class AccountIn(BodySchema):
    name: str = Field(min_length=1, max_length=200)
    domain: Domain = Field("", max_length=200)
    industry: str = Field("", max_length=80)
    employees: int | None = Field(None, ge=0, le=2**31 - 1)
    # Money's 12 digits before the point, not the column's 14: SQLite keeps decimals as
    # floating point, and 16 significant digits did not read back (a 500 schemathesis found).
    annual_revenue: Money | None = None
    country: Country = ""
    owner: Id | None = None
    external_id: str = Field("", max_length=100)


AccountPatch = partial_schema(AccountIn, "AccountPatch")


class AccountFilters(QuerySchema):
    domain: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=80)


class AccountPage(OutSchema):
    items: list[AccountOut]
    next_cursor: str | None


ACCOUNT_SORTS = {"created_at": datetime.datetime, "name": str}


def _account_or_404(user: User, account_id: int) -> Account:
    account = _visible_accounts(user).filter(pk=account_id).first()
    if account is None:
        raise not_found("account", account_id)
    return account


def _conflict(exc: DomainTaken) -> ApiError:
    return ApiError(409, exc.field, str(exc))


@router.get("/accounts", response={200: AccountPage, **ERRORS}, tags=["accounts"])
def list_accounts(
    request,
    filters: Query[AccountFilters],
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    sort: sort_keys(ACCOUNT_SORTS) = "name",  # type: ignore[valid-type]
):
    ordering = Ordering.parse(sort, ACCOUNT_SORTS)
    queryset = _visible_accounts(_user_of(request))
    if filters.domain:
        queryset = queryset.filter(domain__iexact=filters.domain.strip())
    if filters.industry:
        queryset = queryset.filter(industry=filters.industry)
    items, next_cursor = paginate(queryset, ordering=ordering, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/accounts/{account_id}", response={200: AccountOut, **ERRORS}, tags=["accounts"])
def get_account(request, account_id: PathId, response: HttpResponse):
    account = _account_or_404(_user_of(request), account_id)
    set_etag(response, account.version)
    return account


@router.post("/accounts", response={201: AccountOut, **ERRORS}, tags=["accounts"])
def create_account(request, payload: AccountIn, response: HttpResponse):
    user = _user_of(request)
    require_write(user)
    data = payload.dict()
    data["owner"] = _active_user(data["owner"], "owner")
    try:
        account = services.create_account(by=user, fields=data)
    except DomainTaken as exc:
        raise _conflict(exc) from None
    set_etag(response, account.version)
    return Status(201, account)


@router.patch("/accounts/{account_id}", response={200: AccountOut, **ERRORS}, tags=["accounts"])
def update_account(request, account_id: PathId, payload: AccountPatch, response: HttpResponse):
    user = _user_of(request)
    account = _account_or_404(user, account_id)
    require_write(user)
    expected = expected_version(request)
    data = payload.dict(exclude_unset=True)
    if "owner" in data:
        data["owner"] = _active_user(data["owner"], "owner")
    try:
        account = services.update_account(account, by=user, changes=data, expected_version=expected)
    except DomainTaken as exc:
        raise _conflict(exc) from None
    set_etag(response, account.version)
    return account


# --- opportunities ------------------------------------------------------------------------


def _currency(value: str) -> str:
    value = value.strip().upper()
    if value not in CURRENCIES:
        raise ValueError("use an ISO 4217 currency code such as USD or EUR")
    return value


Currency = Annotated[str, AfterValidator(_currency)]
StageCode = Annotated[
    str, Field(min_length=1, max_length=32, description="A stage code of the contract's pipeline")
]
ReasonCode = Annotated[str, Field(max_length=40, description="A code of the managed close reasons")]


class OpportunityOut(OutSchema):
    id: int
    account: int = Field(validation_alias="account_id")
    name: str
    amount: Decimal
    currency: str
    stage: str
    probability: int = Field(description="The stage's probability in the contract's pipeline, %")
    stage_entered_at: datetime.datetime | None
    close_date: datetime.date | None
    next_step: str
    closed_at: datetime.datetime | None
    won_reason: str
    lost_reason: str
    close_note: str
    owner: int | None = Field(None, validation_alias="owner_id")
    campaign: int | None = Field(None, validation_alias="campaign_id")
    external_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int


class OpportunityIn(BodySchema):
    account: Id = Field(description="Account id")
    name: str = Field(min_length=1, max_length=200)
    amount: Money = Decimal(0)
    currency: Currency | None = Field(None, description="ISO 4217; default CLOSEDLOOP_CURRENCY")
    stage: StageCode | None = Field(None, description="Default: the pipeline's first stage")
    close_date: datetime.date | None = None
    next_step: str = Field("", max_length=200)
    won_reason: ReasonCode = ""
    lost_reason: ReasonCode = ""
    close_note: str = Field("", max_length=5000)
    owner: Id | None = None
    campaign: Id | None = Field(None, description="Campaign credited with the deal")
    external_id: str = Field("", max_length=100)


OpportunityPatch = partial_schema(OpportunityIn, "OpportunityPatch")


class OpportunityFilters(QuerySchema):
    stage: StageCode | None = None
    account: Id | None = None
    owner: Id | None = None


class OpportunityPage(OutSchema):
    items: list[OpportunityOut]
    next_cursor: str | None


OPPORTUNITY_SORTS = {"created_at": datetime.datetime, "amount": Decimal}


def opportunity_or_404(user: User, opportunity_id: int) -> Opportunity:
    opportunity = _visible_opportunities(user).filter(pk=opportunity_id).first()
    if opportunity is None:
        raise not_found("opportunity", opportunity_id)
    return opportunity


def _opportunity_refs(user: User, data: dict) -> dict:
    if "account" in data:
        data["account"] = _account_for(user, data["account"], "account")
    if "owner" in data:
        data["owner"] = _active_user(data["owner"], "owner")
    if "campaign" in data:
        data["campaign"] = _campaign_for(data["campaign"], "campaign")
    return data


@router.get("/opportunities", response={200: OpportunityPage, **ERRORS}, tags=["opportunities"])
def list_opportunities(
    request,
    filters: Query[OpportunityFilters],
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    sort: sort_keys(OPPORTUNITY_SORTS) = "-created_at",  # type: ignore[valid-type]
):
    ordering = Ordering.parse(sort, OPPORTUNITY_SORTS)
    exact = {"stage": filters.stage, "account_id": filters.account, "owner_id": filters.owner}
    queryset = _visible_opportunities(_user_of(request)).filter(
        **{k: v for k, v in exact.items() if v is not None}
    )
    items, next_cursor = paginate(queryset, ordering=ordering, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **ERRORS},
    tags=["opportunities"],
)
def get_opportunity(request, opportunity_id: PathId, response: HttpResponse):
    opportunity = opportunity_or_404(_user_of(request), opportunity_id)
    set_etag(response, opportunity.version)
    return opportunity


@router.post("/opportunities", response={201: OpportunityOut, **ERRORS}, tags=["opportunities"])
def create_opportunity(request, payload: OpportunityIn, response: HttpResponse):
    user = _user_of(request)
    require_write(user)
    opportunity = services.create_opportunity(
        by=user, fields=_opportunity_refs(user, payload.dict())
    )
    set_etag(response, opportunity.version)
    return Status(201, opportunity_out(opportunity))


@router.patch(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **ERRORS},
    tags=["opportunities"],
)
def update_opportunity(
    request, opportunity_id: PathId, payload: OpportunityPatch, response: HttpResponse
):
    user = _user_of(request)
    opportunity = opportunity_or_404(user, opportunity_id)
    require_write(user)
    expected = expected_version(request)
    data = _opportunity_refs(user, payload.dict(exclude_unset=True))
    opportunity = services.update_opportunity(
        opportunity, by=user, changes=data, expected_version=expected
    )
    set_etag(response, opportunity.version)
    return opportunity_out(opportunity)
