"""Filtering, searching, sorting and paging a list of leads from URL query parameters.

The one LeadFilters of the app: the leads page, the CSV export of "the list as filtered" and
the JSON API (`GET /api/v1/leads`, which fills it from its typed query schema) all narrow a list
of leads with `narrow_leads`, so a search finds the same leads through every door:

    leads = visible(Lead.objects.all(), request.user)
    leads, cleaned = filter_leads(leads, request.GET)
    # cleaned.errors: what was ignored and why; cleaned.as_query(): the canonical query string

Parameters (all optional, each one value):
    stage     a LifecycleStage value, e.g. "mql"
    owner     a user id, or "none" for unassigned leads
    source    a LeadSource value, e.g. "webinar"
    campaign  a campaign id (the lead's original campaign)
    score     a score band: "0-24", "25-49", "50-74" or "75-100" (on Lead.score)
    q         words to search in first/last name, email and company (every word must match)
    sort      "newest" (default), "oldest", "score", "name" or "updated"

Drill-downs from the funnel (analytics) add, each also "none" for leads without a value where
that makes sense:
    reached       a funnel stage: the lead has that stage's timestamp or a later one's (how the
                  funnel counts a lead that entered a stage)
    created_from  first day of creation (YYYY-MM-DD, UTC); created_to: last day, inclusive
    team          the owner's team id (or "none")
    channel       the original campaign's channel (or "none": no campaign)
    industry, country   exact values (or "none")
    size          an employee band of SIZE_BANDS, e.g. "51-200" (or "none")
    campaign      also "none" (no original campaign)

The API adds what it has no page control for: status, score_min/score_max, updated_since.

A bad value never raises: it is ignored and described in `cleaned.errors`, so the page can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import Q, QuerySet

from closedloop.crm.models import FUNNEL_STAGES, LeadSource, LifecycleStage, entered_field

SCORE_BANDS: dict[str, tuple[int, int]] = {
    "0-24": (0, 24),
    "25-49": (25, 49),
    "50-74": (50, 74),
    "75-100": (75, 100),
}

# Every ordering ends in a unique column so pages never overlap or skip rows.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "newest": ("Newest first", ("-created_at", "-id")),
    "oldest": ("Oldest first", ("created_at", "id")),
    "score": ("Highest score", ("-score", "-created_at", "-id")),
    "name": ("Name A–Z", ("last_name", "first_name", "id")),
    "updated": ("Recently updated", ("-updated_at", "-id")),
}
DEFAULT_SORT = "newest"
# Employee bands of the "size" filter and the funnel's size dimension: name → (low, high).
SIZE_BANDS: dict[str, tuple[int, int | None]] = {
    "1-10": (0, 10),
    "11-50": (11, 50),
    "51-200": (51, 200),
    "201-1000": (201, 1000),
    "1001-5000": (1001, 5000),
    "5001+": (5001, None),
}
NONE = "none"
# Drill-down filters matched exactly (value, or NONE for no value): parameter → lookup.
EXACT_OR_NONE: dict[str, str] = {
    "team": "owner__team_id",
    "channel": "original_campaign__channel",
    "industry": "industry",
    "country": "country",
}
MAX_SEARCH_LENGTH = 100
MAX_SEARCH_WORDS = 5


@dataclass
class LeadFilters:
    """The accepted filter values (empty/None means "any") and the ignored ones, explained."""

    stage: str = ""
    owner: int | None = None
    unassigned: bool = False
    source: str = ""
    campaign: int | None = None
    score: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    # Set by the API only (its query schema validates them).
    status: str = ""
    score_min: int | None = None
    score_max: int | None = None
    updated_since: datetime | None = None
    # Drill-downs from the funnel.
    no_campaign: bool = False
    reached: str = ""
    created_from: date | None = None
    created_to: date | None = None
    size: str = ""
    exact: dict[str, str] = field(default_factory=dict)  # EXACT_OR_NONE parameter → value
    errors: list[str] = field(default_factory=list)

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.stage
            or self.owner
            or self.unassigned
            or self.source
            or self.campaign
            or self.score
            or self.q
            or self.no_campaign
            or self.reached
            or self.created_from
            or self.created_to
            or self.size
            or self.exact
        )

    def params(self) -> dict[str, str]:
        """The accepted values as query parameters (defaults left out)."""
        values = {
            "stage": self.stage,
            "owner": "none" if self.unassigned else (str(self.owner) if self.owner else ""),
            "source": self.source,
            "campaign": NONE if self.no_campaign else (str(self.campaign or "") or ""),
            "score": self.score,
            "q": self.q,
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
            "reached": self.reached,
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
            "size": self.size,
            **self.exact,
        }
        return {key: value for key, value in values.items() if value}

    def as_query(self, **overrides: str) -> str:
        """The canonical query string of these filters, e.g. for pager or export links."""
        params = {**self.params(), **overrides}
        return urlencode({key: value for key, value in params.items() if value})


def filter_leads(queryset: QuerySet, params: Mapping[str, str]) -> tuple[QuerySet, LeadFilters]:
    """Apply the filters, search and sort named in `params` (e.g. request.GET) to `queryset`.

    `queryset` should already be restricted to the leads the user may see. Returns the filtered,
    ordered queryset and the LeadFilters that were applied; invalid values are skipped and
    listed in `LeadFilters.errors`.
    """
    cleaned = LeadFilters()
    for name, parse in _PARSERS.items():
        raw = (params.get(name) or "").strip()
        if raw:
            parse(cleaned, raw)
    return _apply(queryset, cleaned), cleaned


def _parse_stage(cleaned: LeadFilters, raw: str) -> None:
    if raw in LifecycleStage.values:
        cleaned.stage = raw
    else:
        cleaned.errors.append(f"Ignored stage “{raw}”: not a lifecycle stage.")


def _parse_owner(cleaned: LeadFilters, raw: str) -> None:
    if raw == "none":
        cleaned.unassigned = True
    elif (owner := positive_int(raw)) is not None:
        cleaned.owner = owner
    else:
        cleaned.errors.append(f"Ignored owner “{raw}”: expected a user id or “none”.")


def _parse_source(cleaned: LeadFilters, raw: str) -> None:
    if raw in LeadSource.values:
        cleaned.source = raw
    else:
        cleaned.errors.append(f"Ignored source “{raw}”: not a lead source.")


def _parse_campaign(cleaned: LeadFilters, raw: str) -> None:
    if raw == NONE:
        cleaned.no_campaign = True
    elif (campaign := positive_int(raw)) is not None:
        cleaned.campaign = campaign
    else:
        cleaned.errors.append(f"Ignored campaign “{raw}”: expected a campaign id or “none”.")


def _parse_reached(cleaned: LeadFilters, raw: str) -> None:
    if raw in FUNNEL_STAGES:
        cleaned.reached = raw
    else:
        cleaned.errors.append(f"Ignored reached “{raw}”: not a stage of the funnel.")


def _day_parser(name: str):
    def parse(cleaned: LeadFilters, raw: str) -> None:
        try:
            setattr(cleaned, name, date.fromisoformat(raw))
        except ValueError:
            cleaned.errors.append(f"Ignored {name} “{raw}”: expected a date YYYY-MM-DD.")

    return parse


def _parse_size(cleaned: LeadFilters, raw: str) -> None:
    if raw in SIZE_BANDS or raw == NONE:
        cleaned.size = raw
    else:
        cleaned.errors.append(f"Ignored size “{raw}”: expected one of {', '.join(SIZE_BANDS)}.")


def _exact_parser(name: str):
    def parse(cleaned: LeadFilters, raw: str) -> None:
        if name == "team" and raw != NONE and positive_int(raw) is None:
            cleaned.errors.append(f"Ignored team “{raw}”: expected a team id or “none”.")
        else:
            cleaned.exact[name] = raw[:100]

    return parse


def _parse_score(cleaned: LeadFilters, raw: str) -> None:
    if raw in SCORE_BANDS:
        cleaned.score = raw
    else:
        bands = ", ".join(SCORE_BANDS)
        cleaned.errors.append(f"Ignored score “{raw}”: expected one of {bands}.")


def _parse_q(cleaned: LeadFilters, raw: str) -> None:
    if len(raw) > MAX_SEARCH_LENGTH:
        cleaned.errors.append(f"Search shortened to its first {MAX_SEARCH_LENGTH} characters.")
        raw = raw[:MAX_SEARCH_LENGTH].strip()
    cleaned.q = normalise_search(raw)


def normalise_search(raw: str) -> str:
    """The search words of `raw`, single-spaced ("" for none)."""
    return " ".join(raw.split())


def _parse_sort(cleaned: LeadFilters, raw: str) -> None:
    if raw in SORTS:
        cleaned.sort = raw
    else:
        cleaned.errors.append(f"Ignored sort “{raw}”: expected one of {', '.join(SORTS)}.")


_PARSERS = {
    "stage": _parse_stage,
    "owner": _parse_owner,
    "source": _parse_source,
    "campaign": _parse_campaign,
    "score": _parse_score,
    "q": _parse_q,
    "sort": _parse_sort,
    "reached": _parse_reached,
    "created_from": _day_parser("created_from"),
    "created_to": _day_parser("created_to"),
    "size": _parse_size,
    **{name: _exact_parser(name) for name in EXACT_OR_NONE},
}


def positive_int(raw: str) -> int | None:
    # isdigit() alone accepts "²"; isascii() keeps it to 0-9. Bounded to fit a 64-bit id.
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    return None


def _apply(queryset: QuerySet, cleaned: LeadFilters) -> QuerySet:
    return narrow_leads(queryset, cleaned).order_by(*SORTS[cleaned.sort][1])


def narrow_leads(queryset: QuerySet, cleaned: LeadFilters) -> QuerySet:
    """`queryset` restricted to the leads that match every filter in `cleaned` (no ordering)."""
    exact = {
        "lifecycle_stage": cleaned.stage,
        "status": cleaned.status,
        "owner_id": cleaned.owner,
        "source": cleaned.source,
        "original_campaign_id": cleaned.campaign,
        "score__gte": cleaned.score_min,
        "score__lte": cleaned.score_max,
        "updated_at__gte": cleaned.updated_since,
    }
    queryset = queryset.filter(**{key: v for key, v in exact.items() if v not in (None, "")})
    if cleaned.unassigned:
        queryset = queryset.filter(owner__isnull=True)
    if cleaned.score:
        low, high = SCORE_BANDS[cleaned.score]
        queryset = queryset.filter(score__gte=low, score__lte=high)
    if cleaned.q:
        queryset = queryset.filter(_search(cleaned.q))
    return queryset.filter(_drill_down(cleaned))


def _drill_down(cleaned: LeadFilters) -> Q:
    """The funnel's drill-down filters as one condition."""
    condition = Q(original_campaign__isnull=True) if cleaned.no_campaign else Q()
    if cleaned.reached:
        condition &= reached(cleaned.reached)
    if cleaned.created_from:
        condition &= Q(created_at__gte=_midnight(cleaned.created_from))
    if cleaned.created_to:
        condition &= Q(created_at__lt=_midnight(cleaned.created_to + timedelta(days=1)))
    if cleaned.size:
        condition &= _size(cleaned.size)
    for name, value in cleaned.exact.items():
        lookup = EXACT_OR_NONE[name]
        condition &= _none(lookup) if value == NONE else Q(**{lookup: value})
    return condition


def reached(stage: str) -> Q:
    """Leads that entered `stage` or a later stage of the funnel (by their timestamps)."""
    later = FUNNEL_STAGES[FUNNEL_STAGES.index(LifecycleStage(stage)) :]
    condition = Q()
    for name in later:
        condition |= Q(**{f"{entered_field(name)}__isnull": False})
    return condition


def _none(lookup: str) -> Q:
    """No value: null, or an empty text for text fields."""
    if lookup in ("industry", "country"):
        return Q(**{lookup: ""})
    return Q(**{f"{lookup}__isnull": True})


def _size(band: str) -> Q:
    if band == NONE:
        return Q(employees__isnull=True)
    low, high = SIZE_BANDS[band]
    condition = Q(employees__gte=low)
    return condition & Q(employees__lte=high) if high is not None else condition


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _search(q: str) -> Q:
    # Every word must match one of the fields: "ada acme" finds Ada at Acme.
    condition = Q()
    for word in q.split()[:MAX_SEARCH_WORDS]:
        condition &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(company__icontains=word)
        )
    return condition


@dataclass(frozen=True)
class Page:
    """One page of rows; `has_next` comes from fetching one row more, not from a COUNT(*)."""

    rows: list
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)


MAX_PAGE = 10_000


def page_of(queryset: QuerySet, raw_page: str | None, *, per_page: int = 50) -> tuple[Page, str]:
    """Page `raw_page` (1-based, from the URL) of `queryset`, and an error text ("" if none).

    Counting a filtered million-row table costs more than showing it, so there is no total:
    LIMIT per_page + 1 tells whether a next page exists.
    """
    error = ""
    number = positive_int((raw_page or "1").strip())
    if number is None or number > MAX_PAGE:
        error = f"Ignored page “{raw_page}”: expected a number from 1 to {MAX_PAGE}."
        number = 1
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    return Page(rows[:per_page], number, per_page, has_next=len(rows) > per_page), error
