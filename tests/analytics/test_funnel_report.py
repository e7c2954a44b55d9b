"""The funnel from the database: hand-computed figures per group, from the stage timestamps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q

from closedloop.analytics.funnel import ALL_KEY, NONE_KEY, Dimension, funnel_report, read_stages
from closedloop.analytics.velocity import (
    FunnelMeasures,
    StepMeasure,
    funnel_measures,
    planning_stages,
)
from closedloop.crm.models import Lead, Opportunity
from tests.factories import make_lead, make_opportunity

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SINCE, UNTIL = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


def lead(days: dict[str, float], *, created: datetime = T0, **extra) -> Lead:
    """A lead created at `created` that entered each named stage `days` after T0."""
    stamps = {f"{stage}_at": T0 + timedelta(days=d) for stage, d in days.items()}
    return make_lead(created_at=created, **stamps, **extra)


def steps(group) -> dict[str, tuple]:
    return {
        s.stage: (s.entered, s.converted, round(s.conversion_rate, 4), s.median_days, s.p90_days)
        for s in group.steps
    }


def test_conversion_and_days_in_stage_by_source_are_hand_computed():
    lead({"lead": 0, "mql": 2, "sal": 3}, source="webinar")
    lead({"lead": 0, "mql": 4}, source="webinar")
    lead({"lead": 0}, source="webinar")
    lead({"lead": 0, "mql": 1}, source="event")
    report = funnel_report(Lead.objects.all(), dimension="source", since=SINCE, until=UNTIL)
    webinar = next(g for g in report.groups if g.key == "webinar")
    assert webinar.label == "Webinar" and webinar.leads == 3
    figures = steps(webinar)
    # lead → mql: 2 of 3; days 2 and 4 → median 3, p90 = 2 + 0.9 * 2 = 3.8
    assert figures["lead"] == (3, 2, 0.6667, 3.0, pytest.approx(3.8))
    assert figures["mql"] == (2, 1, 0.5, 1.0, 1.0)
    assert figures["sal"] == (1, 0, 0.0, None, None)
    assert steps(report.total)["lead"][:2] == (4, 3)
    assert [g.key for g in report.groups] == ["webinar", "event"]


def test_a_lead_created_further_down_has_passed_the_stages_above_it():
    lead({"sql": 1}, source="import")
    report = funnel_report(Lead.objects.all(), dimension="source", since=SINCE, until=UNTIL)
    figures = steps(report.total)
    assert figures["lead"][:2] == (1, 1) and figures["lead"][3] is None
    assert figures["sql"][:2] == (1, 0)


def test_leads_outside_the_period_are_left_out():
    lead({"lead": 0}, created=T0)
    lead({"lead": 0}, created=T0 - timedelta(days=400))
    report = funnel_report(Lead.objects.all(), dimension="source", since=SINCE, until=UNTIL)
    assert report.total.leads == 1


def test_leads_without_a_value_form_the_none_group():
    lead({"lead": 0}, industry="")
    lead({"lead": 0}, industry="Software")
    report = funnel_report(Lead.objects.all(), dimension="industry", since=SINCE, until=UNTIL)
    assert {g.key: g.label for g in report.groups} == {NONE_KEY: "(none)", "Software": "Software"}


def test_cohorts_and_the_trend_are_the_months_the_leads_were_created():
    lead({"lead": 0, "mql": 1}, created=datetime(2026, 2, 27, tzinfo=UTC))
    lead({"lead": 0}, created=datetime(2026, 3, 1, tzinfo=UTC))
    report = funnel_report(Lead.objects.all(), dimension="cohort", since=SINCE, until=UNTIL)
    assert sorted(g.key for g in report.groups) == ["2026-02", "2026-03"]
    assert [(g.key, steps(g)["lead"][:2]) for g in report.trend] == [
        ("2026-02", (1, 1)),
        ("2026-03", (1, 0)),
    ]


def test_sizes_are_employee_bands():
    lead({"lead": 0}, employees=120)
    lead({"lead": 0}, employees=None)
    frame = read_stages(Lead.objects.all(), dimension=Dimension.SIZE)
    assert sorted(frame["key"].to_list(), key=str) == ["51-200", None]


def test_no_leads_give_an_empty_report():
    report = funnel_report(Lead.objects.all(), dimension="rep", since=SINCE, until=UNTIL)
    assert report.total is None and report.groups == [] and report.trend == []
    assert ALL_KEY == "all"


# -- the measures goal planning reads --------------------------------------------------------


def test_funnel_measures_give_rates_lags_win_rate_cycle_and_deal_size(alice, charlie):
    lead({"lead": 0, "mql": 2, "sal": 3}, owner=alice)
    lead({"lead": 0, "mql": 4}, owner=alice)
    lead({"lead": 0, "mql": 1}, owner=charlie)  # another team
    opened = T0 + timedelta(days=10)
    for amount, stage, days in ((100, "won", 20), (300, "won", 40), (50, "lost", 5)):
        deal = make_opportunity(owner=alice, amount=amount, stage=stage)
        Opportunity.objects.filter(pk=deal.pk).update(
            created_at=opened, closed_at=opened + timedelta(days=days)
        )
    measures = funnel_measures(owned=Q(owner__team_id=alice.team_id), since=SINCE, until=UNTIL)
    lead_step = measures.step("lead")
    assert (lead_step.entered, lead_step.converted, lead_step.conversion_rate) == (2, 2, 1.0)
    assert lead_step.median_days == 3.0 and lead_step.mean_days == 3.0
    assert measures.step("mql").conversion_rate == 0.5
    assert (measures.won, measures.lost) == (2, 1)
    assert measures.win_rate == pytest.approx(2 / 3)
    assert measures.sales_cycle_days == 30.0 and measures.average_deal_size == 200.0


def test_planning_stages_chain_the_measured_rates_down_to_won_deals():
    measures = FunnelMeasures(
        since=SINCE,
        until=UNTIL,
        steps=[
            StepMeasure("lead", "mql", 100, 10, 0.1, 20.0, 30.4375),
            StepMeasure("mql", "sal", 10, 8, 0.8, 1.0, 0.0),
            StepMeasure("sal", "sql", 8, 4, 0.5, 5.0, 30.4375),
            StepMeasure("sql", "opportunity", 4, 2, 0.5, 10.0, 60.875),
            StepMeasure("opportunity", "customer", 2, 1, 0.5, 30.0, 30.0),
        ],
        won=1,
        lost=3,
        win_rate=0.25,
        sales_cycle_days=60.875,
        average_deal_size=1000.0,
    )
    stages = planning_stages(measures, skip=("sal",))
    assert [(s.name, s.conversion_rate, s.lag_months) for s in stages] == [
        ("lead", 0.1, 1.0),
        ("mql", 0.4, 1.0),
        ("sql", 0.5, 2.0),
        ("opportunity", 0.25, 2.0),
    ]
    with pytest.raises(ValueError, match="opportunity"):
        planning_stages(replace(measures, win_rate=None))
