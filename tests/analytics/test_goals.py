"""Goals: agreed like the definitions (one marketing and one sales signer), planned and paced."""

from datetime import UTC, date, datetime

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test import Client

from closedloop.analytics import goals, snapshots
from closedloop.analytics.models import GoalStatus
from closedloop.analytics.scope import COMPANY
from closedloop.definitions.services import set_signers
from tests.factories import make_opportunity


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def quarter_goal(by, **extra):
    return goals.create_goal(by=by, amount=90_000, starts_on=date(2026, 4, 15), **extra)


def test_a_goal_comes_into_force_when_marketing_and_sales_have_signed(mia, max_manager):
    goal = quarter_goal(mia)
    assert goal.starts_on == date(2026, 4, 1)  # whole months
    goals.sign_goal(goal, by=mia)
    goal.refresh_from_db()
    assert goal.status == GoalStatus.DRAFT
    goals.sign_goal(goal, by=max_manager)
    goal.refresh_from_db()
    assert goal.status == GoalStatus.ACTIVE


def test_one_person_signs_one_side_and_a_side_signs_once(mia, max_manager, ada):
    goal = quarter_goal(mia)
    goals.sign_goal(goal, by=mia)
    with pytest.raises(goals.GoalStateError):
        goals.sign_goal(goal, by=mia)
    other_marketer = type(mia).objects.create_user(
        email="m2@example.com", password="x", role="marketing"
    )
    with pytest.raises(goals.GoalStateError, match="already signed"):
        goals.sign_goal(goal, by=other_marketer)


def test_who_signs_is_the_definitions_signer_setting(mia, alice, ada):
    goal = quarter_goal(mia)
    with pytest.raises(PermissionDenied):
        goals.sign_goal(goal, by=alice)  # reps do not sign by default
    set_signers(by=ada, side="sales", roles=["rep", "manager"])
    goals.sign_goal(goal, by=alice)


def test_an_agreed_goal_supersedes_the_previous_one_of_the_same_start(mia, max_manager):
    first, second = quarter_goal(mia), quarter_goal(mia)
    for goal in (first, second):
        goals.sign_goal(goal, by=mia)
        goals.sign_goal(goal, by=max_manager)
    first.refresh_from_db()
    assert first.status == GoalStatus.SUPERSEDED


def test_reps_propose_no_goals_and_managers_only_for_their_team(alice, max_manager, west):
    with pytest.raises(PermissionDenied):
        quarter_goal(alice)
    with pytest.raises(PermissionDenied):
        quarter_goal(max_manager, team=west)


@pytest.mark.parametrize(
    ("changes", "field"), [({"amount": -5}, "amount"), ({"months": 13}, "months")]
)
def test_a_bad_goal_is_refused_naming_the_field(mia, changes, field):
    with pytest.raises(goals.GoalInvalid) as refused:
        goals.create_goal(by=mia, **{"amount": 1000, "starts_on": date(2026, 4, 1), **changes})
    assert refused.value.field == field


HISTORY = {
    "reached": {"lead": 1000, "mql": 250, "sql": 100, "opportunity": 40, "won": 10},
    "lag_days": {"lead": 15.21875, "mql": 30.4375, "sql": None, "opportunity": 60.875},
    "deal_size": 10_000.0,
}


def test_the_plan_says_what_marketing_and_sales_must_deliver(mia):
    plan = goals.plan(quarter_goal(mia), HISTORY)
    assert plan["months"][0] == "2025-12" and plan["months"][-1] == "2026-06"
    assert plan["deliverables"]["marketing"] == {"lead": 900, "mql": 225}
    assert plan["deliverables"]["sales"]["won"] == 9


def test_the_scoreboard_paces_revenue_against_the_agreed_goal(
    mia, max_manager, alice, time_machine
):
    time_machine.move_to(datetime(2026, 4, 16, tzinfo=UTC), tick=False)
    goal = quarter_goal(mia)  # 90,000 over April-June
    goals.sign_goal(goal, by=mia)
    goals.sign_goal(goal, by=max_manager)
    won = make_opportunity(owner=alice, amount=15_000)
    won.created_at, won.stage, won.closed_at = (
        datetime(2026, 4, 1, tzinfo=UTC),
        "won",
        datetime(2026, 4, 10, tzinfo=UTC),
    )
    won.save()
    april = snapshots.Period(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    data = goals.with_goal(
        snapshots.read_snapshot(COMPANY, april), scope=COMPANY, since=april.since, until=april.until
    )
    assert data["figures"]["revenue_goal"] == pytest.approx(90_000 * 30 / 91)
    pacing = data["pacing"]
    assert pacing.forecast == pytest.approx(15_000 * 30 / 15)  # 15 of April's 30 days gone
    assert pacing.will_meet is True  # 30,000 forecast for a target of 29,670


def test_the_goal_pages_draft_sign_and_show_the_plan(mia, max_manager):
    marketer, manager = Client(), Client()
    marketer.force_login(mia)
    manager.force_login(max_manager)
    created = marketer.post(
        "/goals/new/", {"amount": "90000", "starts_on": "2026-04-01", "months": "3", "team": ""}
    )
    assert created.status_code == 302
    url = created["Location"]
    marketer.post(url + "sign/")
    manager.post(url + "sign/")
    page = manager.get(url)
    # Agreed; no deal was won in the last year, so there is no deal size to plan with.
    assert b"Agreed" in page.content and b"No deal was won" in page.content
    assert marketer.get("/goals/").status_code == 200


def test_a_team_goal_of_another_team_is_not_found_for_a_rep(mia, charlie, east):
    goal = quarter_goal(mia, team=east)
    rep = Client()
    rep.force_login(charlie)
    assert rep.get(f"/goals/{goal.pk}/").status_code == 404


def test_the_api_lists_goals_and_gives_one_with_its_plan(api_as, mia, max_manager, charlie, east):
    goal = quarter_goal(mia, team=east)
    goals.sign_goal(goal, by=mia)
    listed = api_as(max_manager).get("/analytics/goals").json()
    assert [g["id"] for g in listed] == [goal.pk] and listed[0]["signed_by"] == {
        "marketing": str(mia)
    }
    one = api_as(max_manager).get(f"/analytics/goals/{goal.pk}").json()
    assert one["plan"] is None  # no deal won in the last year: no deal size to plan with
    assert api_as(charlie).get(f"/analytics/goals/{goal.pk}").status_code == 404
