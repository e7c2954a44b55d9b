"""Filtering, searching, sorting and paging opportunities from URL query parameters.

The one filter of opportunity lists: the board, the list page and its CSV export narrow
opportunities with `filter_opportunities`, so a filter finds the same deals through every door:

    deals = visible_opportunities(request.user)
    deals, cleaned = filter_opportunities(deals, request.GET, pipeline=pipeline)

Parameters (all optional, each one value):
    owner     a user id, or "none" for deals without an owner
    team      a team id (the owner's team)
    period    the close date: "overdue", "this-month", "next-month", "this-quarter",
              "next-quarter" or "this-year" (calendar periods, today's date)
    q         words to search in the deal's and the account's name (every word must match)
    status    "open" (default), "won", "lost", "closed" or "all"
    stage     a stage code of the pipeline (the list only; the board shows every stage)
    sort      one of SORTS (the list only)

A bad value never raises: it is ignored and described in `cleaned.errors`, so the page can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from closedloop.crm.filters import (
    MAX_SEARCH_LENGTH,
    MAX_SEARCH_WORDS,
    normalise_search,
    positive_int,
)
from closedloop.crm.models import Account

PERIODS: dict[str, str] = {
    "overdue": "Overdue (open, close date passed)",
    "this-month": "Closing this month",
    "next-month": "Closing next month",
    "this-quarter": "Closing this quarter",
    "next-quarter": "Closing next quarter",
    "this-year": "Closing this year",
}
STATUSES: dict[str, str] = {
    "open": "Open",
    "won": "Won",
    "lost": "Lost",
    "closed": "Won or lost",
    "all": "All",
}
DEFAULT_STATUS = "open"

# Every ordering ends in the id so pages never overlap or skip rows. Deals without a close
# date sort after those with one, whichever the direction.
SORTS: dict[str, tuple[str, tuple]] = {
    "close": ("Close date, soonest first", (F("close_date").asc(nulls_last=True), "id")),
    "-close": ("Close date, latest first", (F("close_date").desc(nulls_last=True), "-id")),
    "-amount": ("Amount, largest first", ("-amount", "-id")),
    "amount": ("Amount, smallest first", ("amount", "id")),
    "name": ("Name A–Z", ("name", "id")),
    "-name": ("Name Z–A", ("-name", "-id")),
    "newest": ("Newest first", ("-created_at", "-id")),
    "stage": ("Stage", ("stage", F("close_date").asc(nulls_last=True), "id")),
}
DEFAULT_SORT = "close"


@dataclass
class OpportunityFilters:
    """The accepted filter values (empty/None means "any") and the ignored ones, explained."""

    owner: int | None = None
    unassigned: bool = False
    team: int | None = None
    period: str = ""
    q: str = ""
    status: str = DEFAULT_STATUS
    stage: str = ""
    sort: str = DEFAULT_SORT
    errors: list[str] = field(default_factory=list)

    def params(self) -> dict[str, str]:
        """The accepted values as query parameters (defaults left out)."""
        values = {
            "owner": "none" if self.unassigned else (str(self.owner) if self.owner else ""),
            "team": str(self.team) if self.team else "",
            "period": self.period,
            "q": self.q,
            "status": "" if self.status == DEFAULT_STATUS else self.status,
            "stage": self.stage,
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
        }
        return {key: value for key, value in values.items() if value}

    def as_query(self, **overrides: str) -> str:
        """The canonical query string of these filters, e.g. for pager, sort or export links."""
        params = {**self.params(), **overrides}
        return urlencode({key: value for key, value in params.items() if value})

    def board_query(self) -> str:
        """The query string of the filters the board uses (no status, stage or sort)."""
        return self.as_query(status="", stage="", sort="")


def parse_filters(params: Mapping[str, str], *, stage_codes: tuple[str, ...]) -> OpportunityFilters:
    """The filters named in `params` (e.g. request.GET); bad values go to `errors`."""
    cleaned = OpportunityFilters()
    for name, parse in _PARSERS.items():
        raw = (params.get(name) or "").strip()
        if raw:
            parse(cleaned, raw)
    stage = (params.get("stage") or "").strip()
    if stage in stage_codes:
        cleaned.stage = stage
    elif stage:
        cleaned.errors.append(f"Ignored stage “{stage}”: not a stage of the pipeline.")
    return cleaned


def filter_opportunities(
    queryset: QuerySet,
    params: Mapping[str, str],
    *,
    stage_codes: tuple[str, ...],
    closed_codes: tuple[str, ...] = ("won", "lost"),
    today: date | None = None,
) -> tuple[QuerySet, OpportunityFilters]:
    """`queryset` (already what the user may see) narrowed and sorted as `params` say.

    `stage_codes` are the pipeline's stage codes; `closed_codes` those that close a deal.
    Returns the ordered queryset and the filters applied.
    """
    cleaned = parse_filters(params, stage_codes=stage_codes)
    narrowed = narrow_opportunities(queryset, cleaned, today=today or timezone.localdate())
    narrowed = narrowed.filter(_status(cleaned.status, stage_codes, closed_codes))
    if cleaned.stage:
        narrowed = narrowed.filter(stage=cleaned.stage)
    return narrowed.order_by(*SORTS[cleaned.sort][1]), cleaned


def narrow_opportunities(queryset: QuerySet, cleaned: OpportunityFilters, *, today: date):
    """`queryset` restricted by owner, team, close-date period and search (not status/stage)."""
    if cleaned.owner:
        queryset = queryset.filter(owner_id=cleaned.owner)
    if cleaned.unassigned:
        queryset = queryset.filter(owner__isnull=True)
    if cleaned.team:
        queryset = queryset.filter(owner__team_id=cleaned.team)
    if cleaned.period:
        queryset = queryset.filter(period_condition(cleaned.period, today))
    if cleaned.q:
        queryset = queryset.filter(_search(cleaned.q))
    return queryset


def period_condition(period: str, today: date) -> Q:
    """The close-date condition of a PERIODS key, for calendar periods around `today`."""
    if period == "overdue":
        return Q(close_date__lt=today, closed_at__isnull=True)
    start, end = period_bounds(period, today)
    return Q(close_date__gte=start, close_date__lt=end)


def period_bounds(period: str, today: date) -> tuple[date, date]:
    """[start, end) of a calendar period key ("this-month", "next-quarter", ...) around today."""
    if period == "this-year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    months = 3 if period.endswith("quarter") else 1
    first_month = (today.month - 1) // months * months + 1
    start = date(today.year, first_month, 1)
    if period.startswith("next"):
        start = _add_months(start, months)
    return start, _add_months(start, months)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _status(status: str, stage_codes: tuple[str, ...], closed_codes: tuple[str, ...]) -> Q:
    if status == "open":
        # The open stages by name rather than "not closed": an index range per stage.
        return Q(stage__in=[code for code in stage_codes if code not in closed_codes])
    if status == "closed":
        return Q(stage__in=closed_codes)
    if status in closed_codes:
        return Q(stage=status)
    return Q()


def _search(q: str) -> Q:
    # Every word must match the deal's or the account's name: "acme renewal" finds it. The
    # accounts are matched in a subquery, so the deals are not joined to every account.
    condition = Q()
    for word in q.split()[:MAX_SEARCH_WORDS]:
        accounts = Account.objects.filter(name__icontains=word).values("id")
        condition &= Q(name__icontains=word) | Q(account_id__in=accounts)
    return condition


def _parse_owner(cleaned: OpportunityFilters, raw: str) -> None:
    if raw == "none":
        cleaned.unassigned = True
    elif (owner := positive_int(raw)) is not None:
        cleaned.owner = owner
    else:
        cleaned.errors.append(f"Ignored owner “{raw}”: expected a user id or “none”.")


def _parse_team(cleaned: OpportunityFilters, raw: str) -> None:
    if (team := positive_int(raw)) is not None:
        cleaned.team = team
    else:
        cleaned.errors.append(f"Ignored team “{raw}”: expected a team id.")


def _parse_period(cleaned: OpportunityFilters, raw: str) -> None:
    if raw in PERIODS:
        cleaned.period = raw
    else:
        cleaned.errors.append(f"Ignored period “{raw}”: expected one of {', '.join(PERIODS)}.")


def _parse_q(cleaned: OpportunityFilters, raw: str) -> None:
    if len(raw) > MAX_SEARCH_LENGTH:
        cleaned.errors.append(f"Search shortened to its first {MAX_SEARCH_LENGTH} characters.")
        raw = raw[:MAX_SEARCH_LENGTH]
    cleaned.q = normalise_search(raw)


def _parse_status(cleaned: OpportunityFilters, raw: str) -> None:
    if raw in STATUSES:
        cleaned.status = raw
    else:
        cleaned.errors.append(f"Ignored status “{raw}”: expected one of {', '.join(STATUSES)}.")


def _parse_sort(cleaned: OpportunityFilters, raw: str) -> None:
    if raw in SORTS:
        cleaned.sort = raw
    else:
        cleaned.errors.append(f"Ignored sort “{raw}”: expected one of {', '.join(SORTS)}.")


_PARSERS: dict[str, Callable[[OpportunityFilters, str], None]] = {
    "owner": _parse_owner,
    "team": _parse_team,
    "period": _parse_period,
    "q": _parse_q,
    "status": _parse_status,
    "sort": _parse_sort,
}
