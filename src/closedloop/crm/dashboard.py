"""The numbers on the home page: the revenue cycle at a glance, for the leads a user may see.

Each function takes a queryset of leads already restricted to what the viewer may see (see
`closedloop.core.permissions.visible`), so one function serves every role. `snapshot` bundles
the expensive aggregates and caches them per visibility scope: at a million leads the
stage-conversion pass reads every stage change, which costs seconds, not milliseconds. The cache
is the default Django cache (per process with the local-memory backend).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from closedloop.core.permissions import lead_visibility
from closedloop.crm.models import FUNNEL_STAGES, LeadSource, LifecycleStage, StageChange
from closedloop.crm.opportunity_filters import period_bounds
from closedloop.crm.pipeline_board import (
    Amounts,
    StageSum,
    Totals,
    closed_codes,
    current_pipeline,
    list_totals,
    stage_sums,
)
from closedloop.pipeline import WON

logger = logging.getLogger(__name__)

SIDE_EXITS: tuple[LifecycleStage, ...] = (LifecycleStage.RECYCLED, LifecycleStage.DISQUALIFIED)
WEEKS = 26
# Seconds a snapshot counts as fresh; the page says "as of HH:MM" so nobody mistakes it for live.
DEFAULT_CACHE_SECONDS = 120
# An older snapshot is served while a background refresh runs, up to this age.
STALE_LIMIT_SECONDS = 1800
REFRESH_LOCK_SECONDS = 600
# How far back (in stage changes of everyone) the home page looks for a user's recent ones.
RECENT_SEARCH_LIMIT = 200_000


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


def stage_conversion(leads: QuerySet) -> list[Conversion]:
    """Stage-to-stage conversion along FUNNEL_STAGES, from the stage-change history.

    A lead has been at a stage if it is there now, or any StageChange moved it into or out of
    it (the first change's from_stage is where a lead began when its creation was not
    recorded). Per lead, the funnel stages it has been at become one bitmask; the database
    returns how many leads share each mask (a few dozen rows for any number of leads) and the
    pairs are counted from those. Returns one Conversion per adjacent pair of FUNNEL_STAGES.
    """
    histogram = _stage_mask_histogram(leads)
    pairs = list(zip(FUNNEL_STAGES, FUNNEL_STAGES[1:], strict=False))
    result = []
    for i, (a, b) in enumerate(pairs):
        bit_a, bit_b = 1 << i, 1 << (i + 1)
        reached = sum(n for mask, n in histogram.items() if mask & bit_a)
        converted = sum(n for mask, n in histogram.items() if mask & bit_a and mask & bit_b)
        result.append(Conversion(a, b, reached=reached, converted=converted))
    return result


def _stage_bits(field: str) -> Case:
    # Bit i stands for FUNNEL_STAGES[i]; side exits are 0 (not part of the funnel's pairs).
    whens = [When(**{field: stage}, then=Value(1 << i)) for i, stage in enumerate(FUNNEL_STAGES)]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _stage_mask_histogram(leads: QuerySet) -> dict[int, int]:
    """{bitmask of funnel stages a lead has been at: number of such leads}."""
    # SUM(DISTINCT bit) over a lead's changes is the OR of those bits: each stage counts once.
    per_lead = (
        leads.order_by()
        .values("id")
        .annotate(
            to_bits=Coalesce(Sum(_stage_bits("stage_changes__to_stage"), distinct=True), 0),
            from_bits=Coalesce(Sum(_stage_bits("stage_changes__from_stage"), distinct=True), 0),
            now_bit=Max(_stage_bits("lifecycle_stage")),
        )
        .values("to_bits", "from_bits", "now_bit")
    )
    sql, params = per_lead.query.sql_with_params()
    # Grouping by an expression over aggregates needs a derived table, which the ORM cannot
    # express; the inner query is still the ORM's, with the visibility filter in it.
    outer = (
        "SELECT (per_lead.to_bits | per_lead.from_bits | per_lead.now_bit) AS mask, COUNT(*) "
        f"FROM ({sql}) per_lead GROUP BY 1"
    )
    with connections[per_lead.db].cursor() as cursor:
        cursor.execute(outer, params)
        return {int(mask): n for mask, n in cursor.fetchall()}


@dataclass(frozen=True)
class WeeklyLeads:
    """Leads created per week by source: `weeks[i]` starts on a Monday (UTC), `series[source][i]`
    counts that week's leads from `source`. Sources with no lead in the window are left out."""

    weeks: list[datetime]
    series: dict[str, list[int]]

    def chart_data(self) -> dict:
        """Chart.js `data` for a stacked bar chart: ISO week labels, one dataset per source."""
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


def leads_per_week(
    leads: QuerySet, *, now: datetime | None = None, weeks: int = WEEKS
) -> WeeklyLeads:
    """Leads created per week and source over the last `weeks` weeks (UTC weeks, Monday first).

    One query: a count per week as a filtered aggregate, grouped by source. Filtering on
    source IN (all sources) lets the database walk the (source, created_at) index.
    """
    starts = week_starts(now or timezone.now(), weeks)
    ends = starts[1:] + [starts[-1] + timedelta(weeks=1)]
    per_week = {
        f"w{i}": Count("id", filter=Q(created_at__gte=start, created_at__lt=end))
        for i, (start, end) in enumerate(zip(starts, ends, strict=True))
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

    Looks among the newest 200, then 2,000, ... stage changes of everyone: each step is an `at`
    index range, whatever plan the database would pick for "a team's newest changes" (at a
    million leads SQLite otherwise walks the whole team's history and sorts it).
    """
    window = 200
    newest = StageChange.objects.order_by("-at", "-id")
    while True:
        ids = newest.values("id")[:window]
        found = list(
            changes.filter(id__in=ids).select_related("lead", "by").order_by("-at", "-id")[:limit]
        )
        if len(found) == limit or window >= RECENT_SEARCH_LIMIT:
            return found
        window *= 10


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


def compute_snapshot(leads: QuerySet, *, now: datetime | None = None) -> Snapshot:
    """Every cached home page aggregate for `leads`, computed now (no cache)."""
    now = now or timezone.now()
    return Snapshot(
        as_of=now,
        stages=stage_counts(leads),
        conversion=stage_conversion(leads),
        weekly=leads_per_week(leads, now=now),
    )


def snapshot(leads: QuerySet, *, scope: str) -> Snapshot:
    """The home page aggregates for `leads`, cached per `scope` (stale-while-revalidate).

    `scope` must name exactly what `leads` contains (see `visibility_scope`): two users whose
    visible leads are the same share one entry, two whose leads differ never do.

    A snapshot younger than cache_seconds() is served as is. An older one is still served
    (the page shows its "as of" time) while one background thread recomputes it, so no
    visitor waits for the multi-second aggregates at a million leads; only the first visit
    of a scope, or one after STALE_LIMIT_SECONDS of no visits, computes them in the request.
    """
    seconds = cache_seconds()
    if seconds <= 0:
        return compute_snapshot(leads)
    # Hashed: the scope is readable text with spaces, which some cache backends refuse in keys.
    key = f"crm:dashboard:v2:{hashlib.sha256(scope.encode()).hexdigest()[:32]}"
    cached = cache.get(key)
    if cached is None:
        result = compute_snapshot(leads)
        cache.set(key, result, max(seconds, STALE_LIMIT_SECONDS))
        return result
    is_stale = (timezone.now() - cached.as_of).total_seconds() > seconds
    # cache.add is atomic: of many concurrent stale hits, one starts the refresh.
    if is_stale and cache.add(f"{key}:refreshing", True, timeout=REFRESH_LOCK_SECONDS):
        threading.Thread(
            target=_refresh,
            args=(leads, key, seconds),
            daemon=True,
            name="dashboard-refresh",
        ).start()
    return cached


def _refresh(leads: QuerySet, key: str, seconds: int) -> None:
    try:
        cache.set(key, compute_snapshot(leads), max(seconds, STALE_LIMIT_SECONDS))
    except Exception:
        logger.exception("refreshing the dashboard snapshot failed; the stale one stays")
    finally:
        cache.delete(f"{key}:refreshing")
        # This thread opened its own database connection; do not leave it behind.
        connections.close_all()


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


@dataclass(frozen=True)
class PipelineTile:
    """The home page's deals tile: the open pipeline, this quarter's wins and the latest wins."""

    open: Totals
    won_count: int
    won_amount: Amounts
    quarter_start: date
    recent_wins: list


def pipeline_tile(deals: QuerySet, *, today: date | None = None, recent: int = 5) -> PipelineTile:
    """The deals tile for `deals` (opportunities already restricted to what the viewer may
    see): three bounded queries, whatever the number of deals."""
    pipeline = current_pipeline()
    closed = closed_codes(pipeline)
    start, _ = period_bounds("this-quarter", today or timezone.localdate())
    won = deals.filter(stage=WON)
    since = timezone.make_aware(datetime.combine(start, time.min))
    quarter = stage_sums(won.filter(closed_at__gte=since)).get(WON, StageSum(0, Amounts()))
    return PipelineTile(
        open=list_totals(deals.exclude(stage__in=closed), pipeline),
        won_count=quarter.count,
        won_amount=quarter.amounts,
        quarter_start=start,
        recent_wins=list(
            won.select_related("account", "owner").order_by("-closed_at", "-id")[:recent]
        ),
    )
