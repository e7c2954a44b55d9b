"""The inbox as a list: every open lead in scope ranked by priority, filtered, searched, paged.

Priority is score × SLA urgency (`engine.priority`), and urgency changes with the clock, so
it cannot be a stored column. Ranking reads a handful of columns of *every* lead in scope in
one query and computes it in Python; only the leads of the page shown are then loaded whole.
Working-time arithmetic is needed only for clocks still running before their deadline (fresh
MQLs); every other lead's urgency is a constant. So no lead vanishes because it is old.

Parameters (all optional): q (words in name, email or company), stage (mql or sal), sla (a
state of the lead's most pressing clock, see SLA_STATES), score (a band of
`crm.filters.SCORE_BANDS`), source (a LeadSource), page. A bad value is ignored and explained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Q, QuerySet

from closedloop.crm.filters import SCORE_BANDS
from closedloop.crm.models import LeadSource, LifecycleStage
from closedloop.handoff import engine, sla
from closedloop.handoff.sla import OPEN_STAGES

PAGE_SIZE = 50
MAX_SEARCH_WORDS = 5
State = engine.TimerState
SLA_STATES = {
    State.BREACHED: "Breached",
    State.WARNING: "Due soon",
    State.ON_TRACK: "On track",
    State.MISSED: "Missed",
    State.MET: "Met",
    State.STOPPED: "Rejected without contact",
    "none": "No clock",
}
# Which clock speaks for the lead when its two clocks disagree: the most pressing one.
SEVERITY = [State.BREACHED, State.WARNING, State.ON_TRACK, State.STOPPED, State.MISSED, State.MET]
RANK_COLUMNS = (
    "pk",
    "score",
    "owner__team_id",
    "sla__started_at",
    "sla__first_touch_due",
    "sla__first_touched_at",
    "sla__closed_at",
    "sla__attempts_due",
    "sla__attempts_made",
    "sla__attempts_required",
)


@dataclass
class InboxFilters:
    q: str = ""
    stage: str = ""
    sla: str = ""
    score: str = ""
    source: str = ""
    page: int = 1
    errors: list[str] = field(default_factory=list)

    def params(self) -> dict[str, str]:
        values = {"q": self.q, "stage": self.stage, "sla": self.sla}
        values |= {"score": self.score, "source": self.source}
        return {key: value for key, value in values.items() if value}

    def as_query(self, **overrides: str) -> str:
        """These filters as a query string (for pager links), with `overrides` applied."""
        params = {**self.params(), **overrides}
        return urlencode({key: value for key, value in params.items() if value})


def parse_filters(params: Mapping[str, str]) -> InboxFilters:
    """InboxFilters from request.GET; bad values are left out and listed in `errors`."""
    cleaned = InboxFilters(q=" ".join((params.get("q") or "").split()[:MAX_SEARCH_WORDS]))
    choices = {
        "stage": [str(s) for s in OPEN_STAGES],
        "sla": [str(s) for s in SLA_STATES],
        "score": list(SCORE_BANDS),
        "source": list(LeadSource.values),
    }
    for name, allowed in choices.items():
        raw = (params.get(name) or "").strip()
        if raw and raw not in allowed:
            cleaned.errors.append(f"Ignored {name} “{raw}”: not one of {', '.join(allowed)}.")
        elif raw:
            setattr(cleaned, name, raw)
    cleaned.page = _page_number(params.get("page"), cleaned.errors)
    return cleaned


def _page_number(raw: str | None, errors: list[str]) -> int:
    if not raw:
        return 1
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    errors.append(f"Ignored page “{raw}”: not a page number.")
    return 1


def apply_filters(leads: QuerySet, filters: InboxFilters) -> QuerySet:
    """The open leads of `leads` that match the database-side filters (all but `sla`)."""
    leads = leads.filter(lifecycle_stage__in=[filters.stage] if filters.stage else OPEN_STAGES)
    if filters.source:
        leads = leads.filter(source=filters.source)
    if filters.score:
        low, high = SCORE_BANDS[filters.score]
        leads = leads.filter(score__gte=low, score__lte=high)
    for word in filters.q.split():
        leads = leads.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(company__icontains=word)
        )
    return leads


@dataclass(frozen=True)
class Ranked:
    pk: int
    score: int
    priority: float
    state: str  # a SLA_STATES key


def rank(leads: QuerySet, *, now: datetime, sla_state: str = "") -> list[Ranked]:
    """Every lead of `leads`, most urgent first (priority, then score, then oldest id),
    keeping only those whose most pressing clock is in `sla_state` when one is given."""
    rows = list(leads.values_list(*RANK_COLUMNS))
    calendars = sla.calendars_for_teams({row[2] for row in rows})
    warn = sla.sla_numbers().warn_before_minutes
    ranked = [_ranked(row, now=now, calendar=calendars[row[2]], warn=warn) for row in rows]
    if sla_state:
        ranked = [r for r in ranked if r.state == sla_state]
    ranked.sort(key=lambda r: (-r.priority, -r.score, r.pk))
    return ranked


def _ranked(row: tuple, *, now: datetime, calendar, warn: float) -> Ranked:
    pk, score, _, started, due, touched, closed, attempts_due, made, required = row
    if started is None:
        return Ranked(pk, score, engine.priority(score, 1.0), "none")
    first, urgency = _first_touch(now, started, due, touched, closed, calendar, warn)
    done = started if made >= required else None
    attempts = _settled(due=attempts_due, done=done, closed=closed, now=now, contacted=made)
    if attempts is None:
        left = (attempts_due - now).total_seconds() / 60
        attempts = State.WARNING if left <= warn else State.ON_TRACK
    state = min((first, attempts), key=SEVERITY.index)
    return Ranked(pk, score, engine.priority(score, urgency), str(state))


def _settled(*, due, done, closed, now, contacted) -> State | None:
    """The state of a clock that needs no working-time arithmetic, or None."""
    if closed is not None and done is None:
        return sla.closed_state(closed_at=closed, due=due, contacted=bool(contacted))
    if done is not None:
        return State.MET if done <= due else State.MISSED
    return State.BREACHED if now > due else None


def _first_touch(now, started, due, touched, closed, calendar, warn) -> tuple[State, float]:
    """The first-touch clock's state and the inbox urgency it gives (as `engine.urgency`)."""
    settled = _settled(due=due, done=touched, closed=closed, now=now, contacted=touched)
    if settled is not None:
        return settled, engine.urgency(settled, minutes_left=0, window_minutes=0)
    left = engine.working_minutes_between(now, due, calendar)
    window = left + engine.working_minutes_between(started, now, calendar)
    state = State.WARNING if left <= warn else State.ON_TRACK
    return state, engine.urgency(state, minutes_left=left, window_minutes=window)


@dataclass
class InboxPage:
    ranked: list[Ranked]
    number: int
    size: int = PAGE_SIZE

    @property
    def count(self) -> int:
        return len(self.ranked)

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def rows(self) -> list[Ranked]:
        start = (self.number - 1) * self.size
        return self.ranked[start : start + self.size]

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def inbox_page(leads: QuerySet, filters: InboxFilters, *, now: datetime) -> InboxPage:
    """The page of `leads` (already limited to what the user may see) that `filters` ask for."""
    ranked = rank(apply_filters(leads, filters), now=now, sla_state=filters.sla)
    page = InboxPage(ranked, filters.page)
    if page.number > page.pages:
        filters.errors.append(f"Showing page {page.pages}: there is no page {page.number}.")
        page.number = filters.page = page.pages
    return page


def unassigned(leads: QuerySet) -> QuerySet:
    """The manager's queue: MQLs nobody owns."""
    return leads.filter(owner__isnull=True, lifecycle_stage=LifecycleStage.MQL)
