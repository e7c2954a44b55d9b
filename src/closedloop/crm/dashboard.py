"""The numbers on the home page: the revenue cycle at a glance, for the leads a user may see.

Each function takes a queryset of leads already restricted to what the viewer may see (see
`closedloop.core.permissions.visible`), so one function serves every role. `snapshot` bundles
the expensive aggregates and caches them per visibility scope for a short time: at a million
leads the stage-conversion pass reads every stage change, which costs seconds, not milliseconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from closedloop.core.permissions import lead_visibility
from closedloop.crm.models import FUNNEL_STAGES, LeadSource, LifecycleStage, StageChange

SIDE_EXITS: tuple[LifecycleStage, ...] = (LifecycleStage.RECYCLED, LifecycleStage.DISQUALIFIED)
WEEKS = 26
# Seconds a snapshot is reused; the page says "as of HH:MM" so nobody mistakes it for live.
DEFAULT_CACHE_SECONDS = 120


def stage_counts(leads: QuerySet) -> dict[str, int]:
    """Leads per current lifecycle stage, every stage present (0 when none): {stage: count}."""
    counts = dict.fromkeys(LifecycleStage.values, 0)
    rows = leads.order_by().values_list("lifecycle_stage").annotate(n=Count("id"))
    for stage, n in rows:
        if stage in counts:
            counts[stage] = n
    return counts


@dataclass(frozen=True)
class Conversion:
    """Of the leads that reached `from_stage`, how many also reached `to_stage`."""

    from_stage: str
    to_stage: str
    reached: int
    converted: int

    @property
    def rate(self) -> float | None:
        """Share 0..1, or None when no lead reached `from_stage`."""
        return self.converted / self.reached if self.reached else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else round(100 * self.rate, 1)


def _reached(stage: str) -> Q:
    # A lead has been at a stage if it is there now, moved into it, or moved out of it: the
    # first change's from_stage is the stage it was created at, which no to_stage records.
    return (
        Q(lifecycle_stage=stage)
        | Q(stage_changes__to_stage=stage)
        | Q(stage_changes__from_stage=stage)
    )


def stage_conversion(leads: QuerySet) -> list[Conversion]:
    """Stage-to-stage conversion along FUNNEL_STAGES, from the stage-change history.

    One pass: per lead, a 0/1 flag for each funnel stage it ever was at (now, or as a from/to
    stage of any StageChange) and the product of adjacent flags; then sums of both. Returns one
    Conversion per adjacent pair (Subscriber→Lead, ..., Opportunity→Customer).
    """
    pairs = list(zip(FUNNEL_STAGES, FUNNEL_STAGES[1:]))
    flags = {f"r_{stage}": _flag(stage) for stage in FUNNEL_STAGES}
    both = {f"b_{a}": F(f"r_{a}") * F(f"r_{b}") for a, b in pairs}
    per_lead = leads.order_by().values("id").annotate(**flags).annotate(**both)
    totals = per_lead.aggregate(
        **{f"s_{stage}": Sum(f"r_{stage}") for stage, _ in pairs},
        **{f"p_{a}": Sum(f"b_{a}") for a, _ in pairs},
    )
    return [
        Conversion(a, b, reached=totals[f"s_{a}"] or 0, converted=totals[f"p_{a}"] or 0)
        for a, b in pairs
    ]


def _flag(stage: str) -> Max:
    return Max(Case(When(_reached(stage), then=Value(1)), default=Value(0), output_field=IntegerField()))


@dataclass(frozen=True)
class WeeklyLeads:
    """Leads created per week by source: `weeks[i]` starts on a Monday (UTC), `series[source][i]`
    counts that week's leads from `source`. Sources with no lead in the window are left out."""

    weeks: list[datetime]
    series: dict[str, list[int]]

    def chart_data(self) -> dict:
        """The Chart.js `data` object for a stacked bar chart (labels ISO dates, one dataset per source)."""
        labels = dict(LeadSource.choices)
        return {
            "labels": [week.date().isoformat() for week in self.weeks],
            "datasets": [
                {"label": str(labels.get(source, source)), "data": counts}
                for source, counts in self.series.items()
            ],
        }


def week_starts(now: datetime, weeks: int = WEEKS) -> list[datetime]:
    """The Monday 00:00 (UTC) of the last `weeks` weeks, oldest first, the current week last."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def leads_per_week(leads: QuerySet, *, now: datetime | None = None, weeks: int = WEEKS) -> WeeklyLeads:
    """Leads created per week and source over the last `weeks` weeks (UTC weeks, Monday first).

    One query: a count per week as a filtered aggregate, grouped by source. Filtering on
    source IN (all sources) lets the database walk the (source, created_at) index.
    """
    starts = week_starts(now or timezone.now(), weeks)
    ends = starts[1:] + [starts[-1] + timedelta(weeks=1)]
    per_week = {
        f"w{i}": Count("id", filter=Q(created_at__gte=start, created_at__lt=end))
        for i, (start, end) in enumerate(zip(starts, ends))
    }
    rows = (
        leads.order_by()
        .filter(source__in=LeadSource.values, created_at__gte=starts[0], created_at__lt=ends[-1])
        .values("source")
        .annotate(**per_week)
    )
    series = {row["source"]: [row[f"w{i}"] for i in range(weeks)] for row in rows}
    ordered = {source: series[source] for source in LeadSource.values if source in series}
    return WeeklyLeads(weeks=starts, series=ordered)


def recent_stage_changes(changes: QuerySet, *, limit: int = 15) -> list[StageChange]:
    """The latest of `changes` (stage changes already restricted to visible leads, e.g.
    `visible(StageChange.objects.all(), user, via="lead")`), newest first, lead and actor loaded.

    Filtering through the join rather than `lead IN (visible leads)` lets the database walk the
    `at` index backwards and stop after `limit` rows.
    """
    return list(changes.select_related("lead", "by").order_by("-at", "-id")[:limit])


@dataclass(frozen=True)
class Snapshot:
    """The cached part of the home page, computed at `as_of`."""

    as_of: datetime
    stages: dict[str, int]
    conversion: list[Conversion]
    weekly: WeeklyLeads

    @property
    def funnel(self) -> list[tuple[str, str, int]]:
        return [(s.value, s.label, self.stages[s.value]) for s in FUNNEL_STAGES]

    @property
    def side_exits(self) -> list[tuple[str, str, int]]:
        return [(s.value, s.label, self.stages[s.value]) for s in SIDE_EXITS]

    @property
    def total(self) -> int:
        return sum(self.stages.values())


def snapshot(leads: QuerySet, *, scope: str, now: datetime | None = None) -> Snapshot:
    """The home page aggregates for `leads`, reused for DASHBOARD_CACHE_SECONDS per `scope`.

    `scope` must name exactly what `leads` contains (see `visibility_scope`): two users whose
    visible leads are the same share one entry, two whose leads differ never do.
    """
    seconds = cache_seconds()
    # Hashed: the scope is readable text with spaces, which some cache backends refuse in keys.
    key = f"crm:dashboard:v1:{hashlib.sha256(scope.encode()).hexdigest()[:32]}"
    if seconds > 0 and (cached := cache.get(key)) is not None:
        return cached
    now = now or timezone.now()
    result = Snapshot(
        as_of=now,
        stages=stage_counts(leads),
        conversion=stage_conversion(leads),
        weekly=leads_per_week(leads, now=now),
    )
    if seconds > 0:
        cache.set(key, result, seconds)
    return result


def cache_seconds() -> int:
    """How long a snapshot is reused: settings.DASHBOARD_CACHE_SECONDS, 0 turns caching off."""
    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


def visibility_scope(user) -> str:
    """A cache key part naming the set of leads `user` may see, derived from the rule itself
    (`lead_visibility`), so it cannot drift from what the queryset really filters on."""
    rule = lead_visibility(user)
    return "all" if rule is None else _describe(rule)


def _describe(rule: Q) -> str:
    parts = []
    for child in rule.children:
        if isinstance(child, Q):
            parts.append(_describe(child))
        else:
            key, value = child
            parts.append(f"{key}={getattr(value, 'pk', value)}")
    inner = f" {rule.connector} ".join(parts)
    return f"{'NOT ' if rule.negated else ''}({inner})"
