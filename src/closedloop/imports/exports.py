"""CSV exports of leads, accounts, opportunities and touchpoints, as filtered and as visible.

Rows are streamed from the database in batches (`iterator()`), so an export of a million leads
holds one batch in memory. Text cells that a spreadsheet would run as a formula (starting
with = + - @, a tab or a carriage return) are prefixed with an apostrophe; admins may ask for
the raw values.

Column names are our field names, so an export re-imports as a generic file.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator, Mapping

from django.db.models import Q, QuerySet

from closedloop.core.models import Role, User
from closedloop.core.permissions import visible
from closedloop.crm.filters import filter_leads
from closedloop.crm.models import Account, Lead, Opportunity
from closedloop.crm.opportunity_filters import filter_opportunities
from closedloop.crm.permissions import account_visibility, opportunity_visibility
from closedloop.crm.pipeline_board import closed_codes, current_pipeline, stage_codes
from closedloop.engagement.models import Touchpoint

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2_000


class ExportRefused(Exception):
    """The export cannot be made as asked (unknown kind or filter, raw for a non-admin)."""


def neutralise(value: str) -> str:
    """'=HYPERLINK(...)' → "'=HYPERLINK(...)": shown as text, never run by a spreadsheet."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value, raw: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value if raw else neutralise(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


# (column header, ORM path) per kind.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "leads": (
        ("closedloop_id", "id"),
        ("external_id", "external_id"),
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("email", "email"),
        ("phone", "phone"),
        ("title", "title"),
        ("seniority", "seniority"),
        ("company", "company"),
        ("account", "account__name"),
        ("industry", "industry"),
        ("employees", "employees"),
        ("country", "country"),
        ("city", "city"),
        ("lifecycle_stage", "lifecycle_stage"),
        ("status", "status"),
        ("source", "source"),
        ("owner", "owner__email"),
        ("campaign", "original_campaign__name"),
        ("fit_grade", "fit_grade"),
        ("score", "score"),
        ("engagement_score", "engagement_score"),
        ("mql_at", "mql_at"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ),
    "accounts": (
        ("closedloop_id", "id"),
        ("external_id", "external_id"),
        ("name", "name"),
        ("domain", "domain"),
        ("industry", "industry"),
        ("employees", "employees"),
        ("annual_revenue", "annual_revenue"),
        ("country", "country"),
        ("owner", "owner__email"),
        ("created_at", "created_at"),
    ),
    "opportunities": (
        ("closedloop_id", "id"),
        ("external_id", "external_id"),
        ("name", "name"),
        ("account_name", "account__name"),
        ("account_external_id", "account__external_id"),
        ("amount", "amount"),
        ("stage", "stage"),
        ("close_date", "close_date"),
        ("closed_at", "closed_at"),
        ("lost_reason", "lost_reason"),
        ("owner", "owner__email"),
        ("campaign", "campaign__name"),
        ("created_at", "created_at"),
    ),
    "touchpoints": (
        ("closedloop_id", "id"),
        ("external_id", "message_id"),
        ("email", "lead__email"),
        ("lead_external_id", "lead__external_id"),
        ("type", "type"),
        ("channel", "channel"),
        ("campaign", "campaign__name"),
        ("occurred_at", "occurred_at"),
    ),
}

# Exact-match filters for the kinds without a list-filter module of their own.
SIMPLE_FILTERS: dict[str, dict[str, str]] = {
    "accounts": {
        "industry": "industry",
        "country": "country",
        "owner": "owner_id",
        "domain": "domain__iexact",
    },
    "opportunities": {"account": "account_id", "campaign": "campaign_id"},
    "touchpoints": {
        "type": "type",
        "lead": "lead_id",
        "campaign": "campaign_id",
        "channel": "channel",
    },
}
LEAD_FILTERS = ("stage", "owner", "source", "campaign", "score", "q", "sort")
# The opportunity list's filters (crm.opportunity_filters) and the exact ones above.
OPPORTUNITY_FILTERS = ("owner", "team", "period", "q", "status", "stage", "sort")


def export_rows(
    kind: str, *, user: User | None, params: Mapping[str, str] | None = None, raw: bool = False
) -> Iterator[list[str]]:
    """The rows of a CSV export, header first.

    `user` None means an operator on the command line: every record. Otherwise the export
    holds what `user` may see. `params` are the list's filters (the leads page's query string
    for leads). Raises ExportRefused for an unknown kind or filter, or raw for a non-admin.
    """
    if kind not in COLUMNS:
        raise ExportRefused(f"kind must be one of {', '.join(COLUMNS)}, not {kind!r}")
    if raw and user is not None and user.role != Role.ADMIN:
        raise ExportRefused("only admins may export raw (un-neutralised) values")
    queryset = export_queryset(kind, user=user, params=params or {})
    return _rows(queryset, COLUMNS[kind], raw)


def _rows(queryset: QuerySet, columns, raw: bool) -> Iterator[list[str]]:
    yield [header for header, _ in columns]
    paths = [path for _, path in columns]
    for values in queryset.values_list(*paths).iterator(chunk_size=BATCH):
        yield [_cell(value, raw) for value in values]


def export_queryset(kind: str, *, user: User | None, params: Mapping[str, str]) -> QuerySet:
    if kind == "leads":
        unknown = sorted(set(params) - set(LEAD_FILTERS))
        _refuse_unknown(unknown, LEAD_FILTERS)
        leads = Lead.objects.all() if user is None else visible(Lead.objects.all(), user)
        return filter_leads(leads, params)[0]
    allowed = SIMPLE_FILTERS[kind]
    known = tuple(allowed) + (OPPORTUNITY_FILTERS if kind == "opportunities" else ())
    _refuse_unknown(sorted(set(params) - set(known)), known)
    exact = {allowed[k]: v for k, v in params.items() if v and k in allowed}
    queryset = _visible(kind, user).filter(**exact)
    if kind == "opportunities":
        return _opportunities(queryset, params)
    return queryset.order_by("id")


def _opportunities(queryset: QuerySet, params: Mapping[str, str]) -> QuerySet:
    """The list page's filters; without a status the export holds every deal, open or closed,
    and without a sort it is in id order (an export, not a page)."""
    pipeline = current_pipeline()
    narrowed, _ = filter_opportunities(
        queryset,
        {"status": "all", **params},
        stage_codes=stage_codes(pipeline),
        closed_codes=closed_codes(pipeline),
    )
    return narrowed if params.get("sort") else narrowed.order_by("id")


def _refuse_unknown(unknown: list[str], allowed: tuple[str, ...]) -> None:
    if unknown:
        raise ExportRefused(f"unknown filter {', '.join(unknown)}; known: {', '.join(allowed)}")


def _visible(kind: str, user: User | None) -> QuerySet:
    model = {"accounts": Account, "opportunities": Opportunity, "touchpoints": Touchpoint}[kind]
    queryset = model.objects.all()
    if user is None:
        return queryset
    if kind == "touchpoints":
        return visible(queryset, user, via="lead")
    rule: Q | None = (account_visibility if kind == "accounts" else opportunity_visibility)(user)
    if rule is None:
        return queryset
    # The account rule joins leads; filter by id so an account is listed once.
    return queryset.filter(pk__in=model.objects.filter(rule).values("pk"))
