"""Measured funnel velocity for goal planning: conversion rates, stage lags, win rate, sales
cycle and deal size over a period, for any set of owners (a team, a rep, the company).

    measures = funnel_measures(owned=scope.owned(), since=a_year_ago, until=now)
    stages = planning_stages(measures)          # analytics.engine.waterfall.Stage, top first
    plan = reverse_waterfall(goal_by_month=[...], average_deal_size=measures.average_deal_size,
                             stages=stages)

Lead-level figures come from the leads' stage timestamps (the funnel page's numbers for the same
leads: those created in the period, a cohort); deal-level ones from the opportunities closed
in the period. Recent cohorts have had less time to convert, so a short or recent period
understates the rates: plan from a year of history.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from django.db.models import Avg, Q

from closedloop.analytics.engine.funnel import funnel_by_group
from closedloop.analytics.engine.waterfall import Stage
from closedloop.analytics.funnel import STAGES, Dimension, read_stages
from closedloop.crm.models import Lead, LifecycleStage, Opportunity, OpportunityStage

DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class StepMeasure:
    """stage → next_stage for the leads created in the period: how many entered the stage,
    how many of those reached the next one (or a later one), the rate, and the days spent
    in the stage (median and mean, over the leads with both timestamps; None: no such lead)."""

    stage: str
    next_stage: str
    entered: int
    converted: int
    conversion_rate: float | None
    median_days: float | None
    mean_days: float | None


@dataclass(frozen=True)
class FunnelMeasures:
    """What the period measured. `steps` run lead → mql → sal → sql → opportunity → customer
    (per lead). Deal figures count opportunities *closed* in the period: `win_rate` = won ÷
    (won + lost); `sales_cycle_days` = median days from an opportunity's creation to its win;
    `average_deal_size` = mean amount won (currency units). None where nothing was measured."""

    since: datetime
    until: datetime
    steps: list[StepMeasure]
    won: int
    lost: int
    win_rate: float | None
    sales_cycle_days: float | None
    average_deal_size: float | None

    def step(self, stage: str) -> StepMeasure | None:
        """The step that starts at `stage` (e.g. "mql" for MQL → SAL)."""
        return next((s for s in self.steps if s.stage == stage), None)


def funnel_measures(*, owned: Q | None = None, since: datetime, until: datetime) -> FunnelMeasures:
    """Measure the funnel of the leads and opportunities matching `owned` (a filter on records
    with an `owner`, e.g. `Q(owner__team_id=3)`; None: the whole company) in [since, until).

    Leads: those created in the period. Opportunities: those closed in the period.
    """
    owned = owned or Q()
    leads = Lead.objects.filter(owned, created_at__gte=since, created_at__lt=until)
    closed = Opportunity.objects.filter(owned, closed_at__gte=since, closed_at__lt=until)
    won = closed.filter(stage=OpportunityStage.WON)
    won_count, lost_count = won.count(), closed.filter(stage=OpportunityStage.LOST).count()
    decided = won_count + lost_count
    amount = won.aggregate(size=Avg("amount"))["size"]
    return FunnelMeasures(
        since=since,
        until=until,
        steps=_steps(read_stages(leads, dimension=Dimension.SOURCE)),
        won=won_count,
        lost=lost_count,
        win_rate=won_count / decided if decided else None,
        sales_cycle_days=_cycle_days(won),
        average_deal_size=float(amount) if amount is not None else None,
    )


def _steps(frame: pl.DataFrame) -> list[StepMeasure]:
    found: dict[str, dict] = {}
    if frame.height:
        whole = frame.with_columns(pl.lit(0).alias("key"))
        result = funnel_by_group(whole, group="key", stages=list(STAGES))
        found = {row["stage"]: row for row in result.iter_rows(named=True)}
    pairs = zip(STAGES, STAGES[1:], strict=False)
    return [_step(stage, after, found.get(stage)) for stage, after in pairs]


def _step(stage: str, next_stage: str, row: dict | None) -> StepMeasure:
    if row is None:
        return StepMeasure(stage, next_stage, 0, 0, None, None, None)
    return StepMeasure(
        stage=stage,
        next_stage=next_stage,
        entered=row["entered"],
        converted=row["converted"],
        conversion_rate=row["conversion_rate"],
        median_days=row["median_days"],
        mean_days=row["mean_days"],
    )


def _cycle_days(won) -> float | None:
    spans = [
        (closed - created).total_seconds() / 86_400
        for created, closed in won.values_list("created_at", "closed_at")
    ]
    return statistics.median(spans) if spans else None


def planning_stages(measures: FunnelMeasures, *, skip: tuple[str, ...] = ()) -> list[Stage]:
    """The reverse waterfall's stages from measured figures, top first: lead, MQL, SAL, SQL
    (each with its lead-level rate to the next stage and mean lag in months), then the
    opportunity with the deal win rate and the median sales cycle as its lag, so the waterfall
    plans won deals. Stages in `skip` (e.g. ("sal",)) are merged into the one above: its rate
    is the product of both and its lag their sum. Raises ValueError when a rate was not
    measured (no leads or no decided deals in the period) or is zero.
    """
    rows: list[tuple[str, float | None, float | None]] = [
        (s.stage, s.conversion_rate, s.mean_days)
        for s in measures.steps
        if s.stage != LifecycleStage.OPPORTUNITY
    ]
    rows.append((LifecycleStage.OPPORTUNITY, measures.win_rate, measures.sales_cycle_days))
    stages: list[Stage] = []
    for name, rate, days in rows:
        if not rate:
            raise ValueError(f"no measured conversion from {name}: widen the period")
        lag = (days or 0.0) / DAYS_PER_MONTH
        if name in skip and stages:
            above = stages.pop()
            stages.append(Stage(above.name, above.conversion_rate * rate, above.lag_months + lag))
        else:
            stages.append(Stage(name, rate, lag))
    return stages
