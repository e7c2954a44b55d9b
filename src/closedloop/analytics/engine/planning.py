"""Goal planning and pacing: from measured funnel history to a reverse waterfall, and from
revenue so far to a forecast. Pure: plain numbers in, plain numbers out.

- `measured_stages` turns how many records reached each funnel stage (over a look-back window)
  and the median days between stages into `waterfall.Stage`s: conversion = reached(next) ÷
  reached(stage), lag = days ÷ 30.4375 (months).
- `plan_goal` spreads a revenue goal evenly over its months and plans it backwards
  (`waterfall.reverse_waterfall`); `deliverables` splits the volumes into what marketing
  delivers (leads, MQLs) and what sales delivers (SQLs, opportunities, won deals).
- `pace` compares revenue won so far with the plan week by week and forecasts the period's end
  at the run rate so far, with the gap in revenue, won deals and leads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from closedloop.analytics.engine.waterfall import WON, Stage, Waterfall, reverse_waterfall

DAYS_PER_MONTH = 30.4375
# Funnel stages a goal is planned over, top first; each converts into the next, the last into won.
PLAN_STAGES = ("lead", "mql", "sql", "opportunity")
MARKETING_STAGES = ("lead", "mql")
SALES_STAGES = ("sql", "opportunity", WON)
# A stage with no history converts at this rate (and with no lag) rather than dividing by 0.
FALLBACK_RATE = 1.0


def measured_stages(
    reached: Mapping[str, float], lag_days: Mapping[str, float | None]
) -> list[Stage]:
    """Stages with conversion = reached[next] / reached[stage] (PLAN_STAGES then won), capped
    to (0, 1], and lag = lag_days[stage] in months (0 when unknown)."""
    order = (*PLAN_STAGES, WON)
    stages = []
    for name, following in zip(order, order[1:], strict=False):
        top, bottom = float(reached.get(name, 0)), float(reached.get(following, 0))
        rate = min(1.0, bottom / top) if top > 0 and bottom > 0 else FALLBACK_RATE
        days = lag_days.get(name) or 0.0
        stages.append(Stage(name, rate, max(0.0, days) / DAYS_PER_MONTH))
    return stages


def plan_goal(
    *, amount: float, months: int, average_deal_size: float, stages: Sequence[Stage]
) -> Waterfall:
    """The reverse waterfall of `amount` spread evenly over `months` months."""
    if months < 1:
        raise ValueError("months must be at least 1")
    return reverse_waterfall(
        goal_by_month=[amount / months] * months,
        average_deal_size=average_deal_size,
        stages=stages,
    )


def deliverables(plan: Waterfall) -> dict[str, dict[str, float]]:
    """Total volume each team must deliver: marketing the leads and MQLs, sales the SQLs,
    opportunities and won deals."""
    totals = plan.totals()
    return {
        "marketing": {name: totals[name] for name in MARKETING_STAGES if name in totals},
        "sales": {name: totals[name] for name in SALES_STAGES if name in totals},
    }


@dataclass(frozen=True)
class Pacing:
    """Week by week: cumulative plan and actual revenue; the forecast at the period's end."""

    plan: list[float]
    actual: list[float]
    forecast: float | None
    will_meet: bool | None
    gap_revenue: float
    gap_deals: float
    gap_leads: float | None


def pace(
    *,
    goal: float,
    week_days: Sequence[float],
    weekly_revenue: Sequence[float],
    elapsed_days: float,
    average_deal_size: float,
    lead_to_won: float | None,
) -> Pacing:
    """Revenue against a goal spread evenly over the period's days.

    week_days: days of the period in each week (they add up to the period's length);
    weekly_revenue: revenue won in each week so far (weeks to come: 0); elapsed_days: days of
    the period gone by. The forecast extends the run rate so far to the whole period; the gap
    is what the forecast falls short of the goal, in revenue, won deals (÷ deal size) and leads
    (÷ the lead-to-won rate).
    """
    total_days = float(sum(week_days))
    plan, actual, done, days = [], [], 0.0, 0.0
    for length, revenue in zip(week_days, weekly_revenue, strict=True):
        days += length
        done += revenue
        plan.append(goal * days / total_days if total_days else goal)
        actual.append(done)
    forecast = done * total_days / elapsed_days if elapsed_days > 0 else None
    gap = max(0.0, goal - (forecast if forecast is not None else done))
    deals = gap / average_deal_size if average_deal_size > 0 else 0.0
    leads = deals / lead_to_won if lead_to_won else None
    will_meet = None if forecast is None else forecast >= goal
    return Pacing(plan, actual, forecast, will_meet, gap, deals, leads)
