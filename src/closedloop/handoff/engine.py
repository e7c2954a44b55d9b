"""The handoff's arithmetic, free of Django: working time, SLA states, routing and statistics.

Working time is computed with a *position* function F(t): the number of working seconds between
a fixed Monday (REF) and t, in the team's local wall-clock time. Adding m working minutes to t
is F⁻¹(F(t) + 60·m); the working minutes between a and b are (F(b) − F(a)) / 60. Both are
closed-form over weeks (whole weeks × working days per week) plus a binary search over the
sorted holidays, so a 10,000-minute SLA costs the same as a 10-minute one: nothing loops over
minutes or days.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

REF = date(2000, 1, 3)  # a Monday: weekday index 0 lines up with offset 0
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class WorkCalendar:
    """A team's working time: hours [start, end) on `workdays` (0 = Monday) minus `holidays`."""

    time_zone: str = "UTC"
    start: time = time(9, 0)
    end: time = time(17, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: tuple[date, ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holidays: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.workdays or not self.workdays <= set(range(7)):
            raise ValueError("workdays must be a non-empty set of weekday numbers 0–6")
        if self.end <= self.start:
            raise ValueError("the working day must end after it starts")
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))
        # prefix[r]: working weekdays among the first r days of a week that starts on Monday.
        prefix = [0]
        for weekday in range(7):
            prefix.append(prefix[-1] + (weekday in self.workdays))
        object.__setattr__(self, "_prefix", tuple(prefix))
        # Only holidays on working weekdays change anything; keep them sorted for bisect.
        kept = sorted({d for d in self.holidays if d.weekday() in self.workdays})
        object.__setattr__(self, "_holidays", tuple(kept))

    @property
    def day_seconds(self) -> int:
        return _seconds(self.end) - _seconds(self.start)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.workdays:
            return False
        i = bisect.bisect_left(self._holidays, day)
        return not (i < len(self._holidays) and self._holidays[i] == day)

    # -- working days as numbers ---------------------------------------------------------------

    def working_days_before(self, day: date) -> int:
        """How many working days lie in [REF, day)."""
        weeks, rest = divmod((day - REF).days, 7)
        plain = weeks * len(self.workdays) + self._prefix[rest]
        return plain - self._holidays_before(day)

    def _holidays_before(self, day: date) -> int:
        # Holidays counted from REF on: earlier ones are before any date this code sees.
        return bisect.bisect_left(self._holidays, day) - bisect.bisect_left(self._holidays, REF)

    def nth_working_day(self, n: int) -> date:
        """The working day with exactly n working days before it (counted from REF)."""
        skipped = 0
        while True:
            day = self._nth_weekday(n + skipped)
            # Holidays up to and including `day` push it later; repeat until no new one is met.
            holidays = self._holidays_before(day + timedelta(days=1))
            if holidays == skipped:
                return day
            skipped = holidays

    def _nth_weekday(self, n: int) -> date:
        per_week = len(self.workdays)
        weeks, rest = divmod(n, per_week)
        weekday = sorted(self.workdays)[rest]
        return REF + timedelta(days=weeks * 7 + weekday)

    # -- positions ---------------------------------------------------------------------------

    def position(self, moment: datetime) -> int:
        """F(t): working seconds from REF to `moment` (an aware datetime)."""
        local = moment.astimezone(self._zone)
        day = local.date()
        before = self.working_days_before(day) * self.day_seconds
        if not self.is_working_day(day):
            return before
        into = _seconds(local.time()) - _seconds(self.start)
        return before + min(max(into, 0), self.day_seconds)

    def moment(self, position: int) -> datetime:
        """F⁻¹(x): the moment at working position x, in UTC. A position on a day boundary is
        the end of the earlier working day (a deadline of "end of day" reads naturally)."""
        n, offset = divmod(position, self.day_seconds)
        if offset == 0 and n > 0:
            return self._at(self.nth_working_day(n - 1), _seconds(self.end))
        return self._at(self.nth_working_day(n), _seconds(self.start) + offset)

    def _at(self, day: date, seconds: int) -> datetime:
        local = datetime.combine(day, time()) + timedelta(seconds=seconds)
        return local.replace(tzinfo=self._zone).astimezone(UTC)

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self._zone)
        seconds = _seconds(local.time())
        return self.is_working_day(local.date()) and (
            _seconds(self.start) <= seconds <= _seconds(self.end)
        )


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def add_working_minutes(start: datetime, minutes: float, calendar: WorkCalendar) -> datetime:
    """The moment `minutes` working minutes after `start` (aware datetime), in UTC.

    Outside working hours the clock waits: 60 minutes from Friday 16:30 with 9–17 hours is
    Monday 09:30. Zero minutes from a non-working moment is the next working start.
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    if minutes == 0:
        if calendar.is_working_time(start):
            return start.astimezone(UTC)
        n = calendar.position(start) // calendar.day_seconds
        return calendar._at(calendar.nth_working_day(n), _seconds(calendar.start))
    return calendar.moment(calendar.position(start) + round(minutes * 60))


def working_minutes_between(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """Working minutes from `start` to `end` (negative when `end` is earlier)."""
    return (calendar.position(end) - calendar.position(start)) / 60


# -- SLA states -----------------------------------------------------------------------------


class TimerState(StrEnum):
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"  # done, but after the deadline
    # The lead left the sales queue (rejected, recycled) with no contact at all: neither met
    # nor missed, and never counted as met, so rejecting cannot game the SLA.
    STOPPED = "stopped"


def timer_state(
    *,
    now: datetime,
    due: datetime,
    done_at: datetime | None,
    minutes_left: float,
    warn_before_minutes: float,
) -> TimerState:
    """Where a timer stands. `minutes_left` is working minutes from now to due."""
    if done_at is not None:
        return TimerState.MET if done_at <= due else TimerState.MISSED
    if now > due:
        return TimerState.BREACHED
    if minutes_left <= warn_before_minutes:
        return TimerState.WARNING
    return TimerState.ON_TRACK


def urgency(state: TimerState, *, minutes_left: float, window_minutes: float) -> float:
    """An inbox multiplier in [1, 3]: 1 when the clock just started or the work is done,
    rising to 2 as the deadline nears, 3 once breached."""
    if state in (TimerState.MET, TimerState.MISSED, TimerState.STOPPED):
        return 1.0
    if state == TimerState.BREACHED:
        return 3.0
    used = 1 - max(minutes_left, 0) / window_minutes if window_minutes > 0 else 1
    return 1.0 + min(max(used, 0.0), 1.0)


def priority(score: float, urgency_factor: float) -> float:
    """Inbox order: score (0–100; floored at 1 so unscored leads still rank) × urgency."""
    return max(score, 1.0) * urgency_factor


# -- routing --------------------------------------------------------------------------------


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    GTE = "gte"
    LTE = "lte"
    CONTAINS = "contains"
    ENDSWITH = "endswith"


def condition_holds(value: Any, op: str, expected: Any) -> bool:
    """One rule condition on one lead value; text compares case-insensitively."""
    if isinstance(value, str):
        value = value.lower()
        expected = (
            [e.lower() if isinstance(e, str) else e for e in expected]
            if isinstance(expected, list)
            else (expected.lower() if isinstance(expected, str) else expected)
        )
    match Op(op):
        case Op.EQ:
            return bool(value == expected)
        case Op.NE:
            return bool(value != expected)
        case Op.IN:
            return value in expected
        case Op.GTE:
            return value is not None and value >= expected
        case Op.LTE:
            return value is not None and value <= expected
        case Op.CONTAINS:
            return value is not None and str(expected) in str(value)
        case Op.ENDSWITH:
            return value is not None and str(value).endswith(str(expected))
    return False  # pragma: no cover - Op() already refused unknown operators


@dataclass(frozen=True)
class Rule:
    """Conditions (all must hold) → a rep directly, or round-robin in a team."""

    name: str
    conditions: tuple[tuple[str, str, object], ...]
    team_id: int | None = None
    rep_id: int | None = None

    def matches(self, lead: Mapping[str, Any]) -> bool:
        return all(condition_holds(lead.get(f), op, v) for f, op, v in self.conditions)


@dataclass
class Member:
    """A rep in a round-robin pool: `in_period` counts every lead of the capacity period,
    `total` the leads the rotation gave them (what weighted round-robin balances)."""

    id: int
    team_id: int
    weight: int = 1
    capacity: int | None = None  # leads per period; None is unlimited
    in_period: int = 0
    total: int = 0
    away: bool = False

    @property
    def available(self) -> bool:
        return (
            not self.away
            and self.weight > 0
            and (self.capacity is None or self.in_period < self.capacity)
        )


@dataclass(frozen=True)
class Decision:
    owner_id: int | None
    rule: str  # which step decided: "account", a rule's name, or "" when nobody was free


def pick_round_robin(members: Sequence[Member]) -> Member | None:
    """Weighted round-robin: the available member furthest behind their share gets the next
    lead (smallest (total + 1) / weight, ties to the lower id). Counts stay within ±1 of each
    member's weighted share."""
    free = [m for m in members if m.available]
    if not free:
        return None
    return min(free, key=lambda m: ((m.total + 1) / m.weight, m.id))


def route(
    lead: Mapping[str, Any],
    *,
    rules: Sequence[Rule],
    account_owner_id: int | None,
    pools: Mapping[int, Sequence[Member]],
    reps: Mapping[int, Member],
) -> Decision:
    """Who gets `lead`: the owner of its account, else the first matching rule (a named rep,
    or round-robin in a team), else nobody (the lead waits in the unassigned queue).

    Counters of the chosen member are advanced here, so a batch can be routed in one pass.
    """
    if (
        account_owner_id is not None
        and account_owner_id in reps
        and not reps[account_owner_id].away
    ):
        return _take(reps[account_owner_id], "account", rotation=False)
    for rule in rules:
        if not rule.matches(lead):
            continue
        if rule.rep_id is not None and rule.rep_id in reps and reps[rule.rep_id].available:
            return _take(reps[rule.rep_id], rule.name, rotation=False)
        if rule.team_id is not None:
            chosen = pick_round_robin(pools.get(rule.team_id, ()))
            if chosen is not None:
                return _take(chosen, rule.name, rotation=True)
    return Decision(None, "")


def _take(member: Member, rule: str, *, rotation: bool) -> Decision:
    # Capacity counts every lead; the rotation counts only its own turns, so a rep who owns
    # big accounts is not starved of round-robin leads (nor is the rotation skewed by them).
    member.in_period += 1
    if rotation:
        member.total += 1
    return Decision(member.id, rule)


def imbalance(counts: Sequence[int], weights: Sequence[int]) -> float:
    """The largest distance of any member's count from its weighted share of the total."""
    if not counts:
        return 0.0
    total, weight_sum = sum(counts), sum(weights)
    return max(abs(c - total * w / weight_sum) for c, w in zip(counts, weights, strict=True))


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def period_start(day: date, period: str) -> date:
    """The first day of the capacity period ("day", "week" or "month") containing `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


# -- statistics for the SLA page ------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0–100, linear interpolation) or None for no values."""
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return data[low] + (data[high] - data[low]) * (rank - low)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def week_start(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())
