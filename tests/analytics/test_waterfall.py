"""The reverse waterfall against a worked example."""

import pytest

from closedloop.analytics.engine.waterfall import Stage, reverse_waterfall

STAGES = [
    Stage("lead", conversion_rate=0.10, lag_months=1),
    Stage("mql", conversion_rate=0.40, lag_months=0.5),
    Stage("sql", conversion_rate=0.50, lag_months=1),
    Stage("opportunity", conversion_rate=0.25, lag_months=2),
]


def test_a_120k_goal_needs_12_deals_48_opportunities_96_sqls_240_mqls_and_2400_leads():
    # 120,000 / 10,000 = 12 won in month 0; opportunities 12 / 0.25 = 48 two months earlier;
    # SQLs 48 / 0.5 = 96 one month before that; MQLs 96 / 0.4 = 240 half a month earlier
    # (split over months -3 and -4); leads 240 / 0.1 = 2,400 one month earlier still.
    plan = reverse_waterfall(goal_by_month=[120_000], average_deal_size=10_000, stages=STAGES)
    assert plan.months == [-5, -4, -3, -2, -1, 0]
    assert plan.needed["won"].tolist() == [0, 0, 0, 0, 0, 12]
    assert plan.needed["opportunity"].tolist() == [0, 0, 0, 48, 0, 0]
    assert plan.needed["sql"].tolist() == [0, 0, 96, 0, 0, 0]
    assert plan.needed["mql"].tolist() == [0, 120, 120, 0, 0, 0]
    assert plan.needed["lead"].tolist() == [1200, 1200, 0, 0, 0, 0]
    assert list(plan.needed) == ["lead", "mql", "sql", "opportunity", "won"]


def test_a_quarterly_goal_keeps_every_stage_total_exact():
    plan = reverse_waterfall(
        goal_by_month=[50_000, 80_000, 70_000], average_deal_size=20_000, stages=STAGES
    )
    totals = plan.totals()
    assert totals["won"] == pytest.approx(10)
    assert totals["opportunity"] == pytest.approx(40)
    assert totals["lead"] == pytest.approx(2000)
    assert plan.months[-1] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"goal_by_month": []}, "goal_by_month needs at least one month"),
        ({"average_deal_size": 0}, "average_deal_size must be positive"),
        ({"stages": [Stage("lead", 0, 1)]}, "lead: conversion_rate must be in"),
        ({"stages": [Stage("lead", 0.5, -1)]}, "lead: lag_months must be >= 0"),
        ({"stages": [Stage("won", 0.5, 1)]}, "stage names must be distinct"),
    ],
)
def test_impossible_plans_are_refused_with_the_field_named(kwargs, message):
    arguments = {"goal_by_month": [1000], "average_deal_size": 100, "stages": STAGES} | kwargs
    with pytest.raises(ValueError, match=message):
        reverse_waterfall(**arguments)
