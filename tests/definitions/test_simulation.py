"""The what-if simulation, on a fixture small enough to count by hand."""

import copy
import datetime

import numpy as np
import pytest

from closedloop.crm.models import LifecycleStage, OpportunityContact, OpportunityStage
from closedloop.crm.services import change_stage
from closedloop.definitions import services, simulation
from closedloop.definitions.contract import Contract, parse_contract
from closedloop.definitions.defaults import DEFAULT_CONTRACT
from closedloop.engagement.models import Touchpoint
from tests.factories import make_lead, make_opportunity

NOW = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)
START = NOW - datetime.timedelta(weeks=13)  # day 0 of the window
TYPES = ["page_view", "email_click", "form"]


def contract_body(min_engagement: float, half_life: float = 3650) -> dict:
    """Grade B for 200+ employees (D + 6 thirds), else D; forms 15 points, page views 1 (cap 20)."""
    body = copy.deepcopy(DEFAULT_CONTRACT)
    body["icp"] = [{"field": "employees", "op": "gte", "value": 200, "step": 6, "label": "200+"}]
    body["engagement"] = {
        "points": {"page_view": 1, "email_click": 3, "form": 15},
        "caps": {"web": {"types": ["page_view"], "max": 20}},
        "half_life_days": half_life,
    }
    body["mql_rule"] = {"min_engagement": min_engagement, "min_fit_grade": "B-"}
    return body


def contract(min_engagement: float, half_life: float = 3650) -> Contract:
    return parse_contract(contract_body(min_engagement, half_life))


# --- the pure part -----------------------------------------------------------------------


def history(*, employees, created, touches, reached=None, won=None) -> simulation.History:
    n = len(employees)
    lead, kind, day = zip(*touches, strict=True) if touches else ((), (), ())
    return simulation.History(
        columns={"employees": employees},
        created_day=np.array(created, dtype=float),
        touch_lead=np.array(lead, dtype=np.int64),
        touch_type=np.array([TYPES.index(k) for k in kind], dtype=np.int64),
        type_names=TYPES,
        touch_day=np.array(day, dtype=float),
        reached_opportunity=np.array(reached or [False] * n),
        won=np.array(won or [False] * n),
    )


WEEKS = np.arange(1, 14, dtype=float) * 7


def test_decay_decides_whether_a_burst_still_counts_at_the_end_of_the_week():
    # 50 points on day 6; at the end of week 0 (day 7) they are one day old.
    h = history(
        employees=[500], created=[0], touches=[(0, "form", 6)] * 3 + [(0, "page_view", 6)] * 5
    )
    # Half-life 7 days: 50 × 2^(-1/7) = 45.3 ≥ 40 → MQL in week 0.
    assert simulation.first_mql_week(h, contract(40, half_life=7), WEEKS)[0] == 0
    # Half-life 1 day: 50 × ½ = 25 < 40, and only less later → never.
    assert simulation.first_mql_week(h, contract(40, half_life=1), WEEKS)[0] == -1


def test_a_lead_counts_only_from_the_week_it_was_created():
    # 30 points of touches before the lead existed (stitched anonymous visits), lead created day 20.
    h = history(employees=[500], created=[20], touches=[(0, "form", 1), (0, "form", 2)])
    assert simulation.first_mql_week(h, contract(20), WEEKS)[0] == 2  # week ending day 21


def test_caps_hold_in_the_simulation_too():
    h = history(employees=[500], created=[0], touches=[(0, "page_view", 1)] * 30)
    assert simulation.first_mql_week(h, contract(20), WEEKS)[0] == 0  # 30 capped at 20
    assert simulation.first_mql_week(h, contract(21), WEEKS)[0] == -1


def test_conversion_is_measured_among_the_simulated_mqls_only():
    h = history(
        employees=[500, 500, 50],
        created=[0, 0, 0],
        touches=[(0, "form", 1), (0, "form", 1), (1, "form", 1), (2, "form", 1), (2, "form", 1)],
        reached=[True, True, True],
        won=[True, False, True],
    )
    outcome = simulation.simulate(h, contract(20), WEEKS)
    # Lead 1 has 15 < 20 points; lead 2 is a D. Only lead 0 is an MQL.
    assert outcome.mqls == 1 and outcome.per_week[0] == 1
    assert (outcome.reached_opportunity, outcome.won) == (1, 1)
    assert outcome.opportunity_rate == 1.0 and outcome.won_rate == 1.0


def test_no_mqls_means_no_rate_rather_than_zero():
    outcome = simulation.simulate(
        history(employees=[50], created=[0], touches=[]), contract(0), WEEKS
    )
    assert outcome.mqls == 0 and outcome.opportunity_rate is None and outcome.won_rate is None


# --- end to end on the database ------------------------------------------------------------


def at(day: float) -> datetime.datetime:
    return START + datetime.timedelta(days=day)


def lead(day: float, employees: int = 500, stage: str = LifecycleStage.LEAD, touches=()):
    record = make_lead(created_at=at(day), employees=employees, stage=stage)
    Touchpoint.objects.bulk_create(
        Touchpoint(lead=record, type=kind, occurred_at=at(when)) for kind, when in touches
    )
    return record


@pytest.fixture
def window(db):
    """Seven leads; by hand, with the bar at 20 (draft) and 40 (in force), grade B needs 200+:

    L1 day 1: forms day 2, 3 (30) and day 20 (45)  → draft week 0, in force week 2 (day 21)
    L2 day 10: 50 employees (grade D), forms 60     → never
    L3 day 30: three forms day 31 (45)              → both week 4 (days 28–35); reached an
               opportunity (stage history) and is on a won deal
    L4 day 50: 30 page views day 51, capped at 20   → draft week 7; customer now (reached, won)
    L5 day -10: before the window, 4 forms          → not replayed at all
    L6 day 80: two forms day -5 (30, stitched)      → draft week 11 (first week end after day
               80); at the opportunity stage now, on a lost deal (reached, not won)
    L7 day 88: two forms day 92, after "now"        → never (touches after now do not count)
    """
    forms = lambda *days: [("form", d) for d in days]  # noqa: E731
    l1 = lead(1, touches=forms(2, 3, 20))
    l2 = lead(10, employees=50, touches=forms(11, 11, 11, 11))
    # Qualified by sales before the window's history starts (no stage history for it): the
    # contract's lifecycle lets an SQL, not a plain lead, become an opportunity.
    l3 = lead(30, stage=LifecycleStage.SQL, touches=forms(31, 31, 31))
    change_stage(l3, to=LifecycleStage.OPPORTUNITY, at=at(40))
    change_stage(l3, to=LifecycleStage.RECYCLED, at=at(60))
    won = make_opportunity(stage=OpportunityStage.WON)
    OpportunityContact.objects.create(opportunity=won, lead=l3)
    OpportunityContact.objects.create(opportunity=won, lead=l2)  # not an MQL: must not count
    l4 = lead(50, stage=LifecycleStage.CUSTOMER, touches=[("page_view", 51)] * 30)
    lead(-10, touches=forms(1, 1, 1, 1))
    l6 = lead(80, stage=LifecycleStage.OPPORTUNITY, touches=forms(-5, -5))
    lost = make_opportunity(stage=OpportunityStage.LOST)
    OpportunityContact.objects.create(opportunity=lost, lead=l6)
    lead(88, touches=forms(92, 92))
    return {"l1": l1, "l3": l3, "l4": l4, "l6": l6}


def test_the_simulation_counts_mqls_per_week_and_their_conversion_by_hand(window, mia, alice):
    in_force = services.create_draft(by=mia, body=contract_body(40))
    services.sign_contract(in_force, by=mia)
    services.sign_contract(in_force, by=alice)
    draft = services.create_draft(by=mia, body=contract_body(20))

    result = services.simulate_contract(draft, now=NOW)

    assert result["leads"] == 6  # L5 is older than the window
    assert result["touches"] == 3 + 4 + 3 + 30 + 2  # L7's future touches are left out
    assert result["weeks"][0] == START.date() and len(result["weeks"]) == 13
    assert result["candidate"]["mqls_per_week"] == [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]
    assert result["active"]["mqls_per_week"] == [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert result["candidate"] | {"mqls_per_week": None} == {
        "mqls_per_week": None,
        "mqls": 4,
        "reached_opportunity": 3,
        "won": 2,
        "opportunity_rate": 0.75,
        "won_rate": 0.5,
    }
    assert result["active"] | {"mqls_per_week": None} == {
        "mqls_per_week": None,
        "mqls": 2,
        "reached_opportunity": 1,
        "won": 1,
        "opportunity_rate": 0.5,
        "won_rate": 0.5,
    }
    assert (result["candidate_version"], result["active_version"]) == (
        draft.number,
        in_force.number,
    )


def test_the_simulation_page_shows_both_versions_side_by_side(window, client, mia, eve):
    draft = services.create_draft(by=mia, body=contract_body(20))
    client.force_login(eve)  # reading a what-if is open to every role
    response = client.get(f"/definitions/v{draft.number}/simulate/", HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert 'id="sim-candidate-mqls"' in text and f"simulation-chart-{draft.number}" in text
    assert "MQLs under v1 (in force)" in text


def test_a_one_week_replay_agrees_with_the_scoring_engines_mql_rule():
    from closedloop.scoring.engine import (
        engagement_scores,
        fit_points,
        grades_from_points,
        meets_mql_rule,
    )

    rng = np.random.default_rng(3)
    n, m = 400, 3000
    h = simulation.History(
        columns={"employees": rng.integers(1, 2000, n).tolist()},
        created_day=rng.uniform(0, 10, n),
        touch_lead=rng.integers(0, n, m),
        touch_type=rng.integers(0, 3, m),
        type_names=TYPES,
        touch_day=rng.uniform(-20, 7, m),
        reached_opportunity=np.zeros(n, dtype=bool),
        won=np.zeros(n, dtype=bool),
    )
    body = contract(30, half_life=10)
    first = simulation.first_mql_week(h, body, np.array([7.0]))
    grades = grades_from_points(fit_points(h.columns, body.icp)[0])
    engagement = engagement_scores(
        h.touch_lead, h.touch_type, 7.0 - h.touch_day, n, body.engagement, type_names=TYPES
    )
    expected = meets_mql_rule(grades, engagement, body.mql_rule) & (h.created_day <= 7)
    assert expected.sum() > 20 and (~expected).sum() > 20  # both outcomes are exercised
    assert np.array_equal(first == 0, expected)


def test_every_week_of_a_replay_agrees_with_the_engine_at_that_weeks_end():
    from closedloop.scoring.engine import (
        engagement_scores,
        fit_points,
        grades_from_points,
        meets_mql_rule,
    )

    rng = np.random.default_rng(5)
    n, m = 300, 4000
    h = simulation.History(
        columns={"employees": rng.integers(1, 2000, n).tolist()},
        created_day=rng.uniform(0, 60, n),
        touch_lead=rng.integers(0, n, m),
        touch_type=rng.integers(0, 3, m),
        type_names=TYPES,
        touch_day=rng.uniform(-10, 91, m),
        reached_opportunity=np.zeros(n, dtype=bool),
        won=np.zeros(n, dtype=bool),
    )
    body = contract(12, half_life=10)
    first = simulation.first_mql_week(h, body, WEEKS)
    grades = grades_from_points(fit_points(h.columns, body.icp)[0])
    met_before = np.zeros(n, dtype=bool)
    for week, end in enumerate(WEEKS):
        upto = h.touch_day <= end
        engagement = engagement_scores(
            h.touch_lead[upto], h.touch_type[upto], end - h.touch_day[upto], n,
            body.engagement, type_names=TYPES,
        )  # fmt: skip
        meets = meets_mql_rule(grades, engagement, body.mql_rule) & (h.created_day <= end)
        assert np.array_equal(first == week, meets & ~met_before), f"week {week}"
        met_before |= meets
    assert len(set(first[first >= 0].tolist())) > 5  # MQLs spread over many weeks
