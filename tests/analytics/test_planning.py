"""Goal planning and pacing on a worked example, by hand."""

import pytest

from closedloop.analytics.engine.planning import deliverables, measured_stages, pace, plan_goal

# Last year: 1,000 leads, 250 reached MQL, 100 SQL, 40 opportunities, 10 won (deals of 10,000);
# 15.2 days lead -> MQL, 30.4 MQL -> SQL, 0 SQL -> opportunity, 60.9 opportunity -> won.
REACHED = {"lead": 1000, "mql": 250, "sql": 100, "opportunity": 40, "won": 10}
LAGS = {"lead": 15.21875, "mql": 30.4375, "sql": None, "opportunity": 60.875}


def test_measured_rates_are_the_ratios_of_reached_stages_and_lags_are_in_months():
    stages = measured_stages(REACHED, LAGS)
    assert [(s.name, s.conversion_rate, s.lag_months) for s in stages] == [
        ("lead", 0.25, 0.5),
        ("mql", 0.4, 1.0),
        ("sql", 0.4, 0.0),
        ("opportunity", 0.25, 2.0),
    ]


def test_a_stage_without_history_converts_fully_instead_of_dividing_by_zero():
    stages = measured_stages({"lead": 10, "mql": 0, "sql": 5}, {})
    assert stages[0].conversion_rate == 1.0 and stages[1].conversion_rate == 1.0


def test_a_quarterly_goal_is_planned_backwards_month_by_month():
    # 300,000 over 3 months: 100,000 a month = 10 won deals a month; 40 opportunities two
    # months earlier, 100 SQLs the same month, 250 MQLs a month before, 1,000 leads half a
    # month before that (split over two months).
    plan = plan_goal(
        amount=300_000,
        months=3,
        average_deal_size=10_000,
        stages=measured_stages(REACHED, LAGS),
    )
    needed = {name: list(values) for name, values in plan.needed.items()}
    assert plan.months == [-4, -3, -2, -1, 0, 1, 2]
    assert needed["won"] == [0, 0, 0, 0, 10, 10, 10]
    assert needed["opportunity"] == [0, 0, 40, 40, 40, 0, 0]
    assert needed["sql"] == [0, 0, 100, 100, 100, 0, 0]
    assert needed["mql"] == [0, 250, 250, 250, 0, 0, 0]
    assert needed["lead"] == [500, 1000, 1000, 500, 0, 0, 0]
    split = deliverables(plan)
    assert split["marketing"] == {"lead": 3000, "mql": 750}
    assert split["sales"] == {"sql": 300, "opportunity": 120, "won": 30}


def test_pacing_forecasts_the_run_rate_and_the_gap_in_deals_and_leads():
    # 4 weeks of 7 days, goal 28,000; two weeks gone with 4,000 + 6,000 won.
    result = pace(
        goal=28_000,
        week_days=[7, 7, 7, 7],
        weekly_revenue=[4_000, 6_000, 0, 0],
        elapsed_days=14,
        average_deal_size=2_000,
        lead_to_won=0.01,
    )
    assert result.plan == [7_000, 14_000, 21_000, 28_000]
    assert result.actual == [4_000, 10_000, 10_000, 10_000]
    assert result.forecast == 20_000 and result.will_meet is False
    assert (result.gap_revenue, result.gap_deals) == (8_000, 4)
    assert result.gap_leads == pytest.approx(400)


def test_a_period_not_yet_started_has_no_forecast():
    result = pace(
        goal=100,
        week_days=[7],
        weekly_revenue=[0],
        elapsed_days=0,
        average_deal_size=10,
        lead_to_won=None,
    )
    assert result.forecast is None and result.will_meet is None and result.gap_leads is None
