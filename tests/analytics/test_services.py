"""Journeys from the database: marketing and sales touches, outcomes, and who sees what."""

from datetime import UTC, datetime, timedelta

import pytest

from closedloop.analytics.services import compare_models, load_journeys
from closedloop.crm.models import Activity, OpportunityContact, OpportunityStage
from closedloop.engagement.models import Touchpoint
from tests.factories import make_lead, make_opportunity

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SINCE, UNTIL = T0, T0 + timedelta(days=30)


def day(n):
    return T0 + timedelta(days=n)


def touch(lead, at, *, channel="", kind="page_view"):
    return Touchpoint.objects.create(lead=lead, type=kind, channel=channel, occurred_at=at)


@pytest.fixture
def company(alice, charlie):
    """East's deal (alice): search ad, web form, a sales call, then a webinar after creation.
    West's deal (charlie): one email. An East lead that never converted: one social touch."""
    east_lead = make_lead(owner=alice, created_at=day(1))
    touch(east_lead, day(0), channel="search", kind="ad_click")
    touch(east_lead, day(1), channel="web", kind="form")
    Activity.objects.create(lead=east_lead, rep=alice, kind="call", at=day(5))
    Activity.objects.create(lead=east_lead, rep=alice, kind="note", at=day(6))
    touch(east_lead, day(20), kind="webinar")
    east_deal = make_opportunity(owner=alice, amount=1000)
    east_deal.created_at, east_deal.stage, east_deal.closed_at = day(10), "won", day(25)
    east_deal.save()
    OpportunityContact.objects.create(opportunity=east_deal, lead=east_lead)
    west_lead = make_lead(owner=charlie, created_at=day(2))
    touch(west_lead, day(2), channel="email", kind="email_click")
    west_deal = make_opportunity(owner=charlie, amount=500)
    west_deal.created_at = day(12)
    west_deal.save()
    OpportunityContact.objects.create(opportunity=west_deal, lead=west_lead)
    touch(make_lead(owner=alice, created_at=day(3)), day(4), channel="social")
    return east_deal


def credits(user, model, outcome="pipeline", dimension="channel"):
    loaded = load_journeys(
        user=user, outcome=outcome, dimension=dimension, since=SINCE, until=UNTIL
    )
    return loaded, compare_models(loaded=loaded, models_wanted=[model])[model].as_dict()


def test_a_reps_pipeline_journey_holds_marketing_and_sales_touches_before_creation(company, alice):
    loaded, first = credits(alice, "first")
    journeys = loaded.journeys
    assert loaded.outcomes == 1
    # Alice's team: the East deal (3 touches before creation; notes are no touch) + the null lead.
    assert journeys.rows == 2
    assert [journeys.channels[c] for c in journeys.codes[:3]] == ["search", "web", "sales call"]
    assert journeys.milestones["lead"][0] == 1  # the form, when the lead was created
    assert first["search"] == {"conversions": 1.0, "value": 1000.0}
    assert "email" not in first  # West's deal is not Alice's to see


def test_sales_touches_get_credit_like_marketing_touches(company, alice):
    _, last = credits(alice, "last")
    assert last["sales call"] == {"conversions": 1.0, "value": 1000.0}


def test_an_executive_sees_every_teams_deals(company, eve):
    loaded, last = credits(eve, "last")
    assert loaded.outcomes == 2
    assert last["email"]["conversions"] == 1.0 and last["sales call"]["conversions"] == 1.0


def test_revenue_counts_won_deals_with_the_touches_until_they_closed(company, eve):
    loaded, last = credits(eve, "last", outcome="revenue")
    assert loaded.outcomes == 1
    assert last["webinar"] == {"conversions": 1.0, "value": 1000.0}


def test_the_campaign_dimension_leaves_deals_without_campaign_touches_unattributed(company, eve):
    loaded, _ = credits(eve, "first", dimension="campaign")
    # No touch here has a campaign: only sales activities are left, on the East deal.
    assert loaded.outcomes == 2
    assert loaded.unattributed_conversions == 1 and loaded.unattributed_value == 500.0


@pytest.mark.parametrize("model", ["linear", "markov", "shapley", "w_shaped", "time_decay"])
def test_every_model_credits_all_attributed_deals(company, eve, model):
    _, result = credits(eve, model)
    assert sum(c["conversions"] for c in result.values()) == pytest.approx(2)
    assert sum(c["value"] for c in result.values()) == pytest.approx(1500)


def test_an_unknown_model_is_refused(company, eve):
    loaded = load_journeys(
        user=eve, outcome="pipeline", dimension="channel", since=SINCE, until=UNTIL
    )
    with pytest.raises(ValueError, match="unknown model 'x'"):
        compare_models(loaded=loaded, models_wanted=["x"])


def test_nothing_in_the_period_gives_no_credits(company, eve):
    loaded = load_journeys(
        user=eve, outcome="pipeline", dimension="channel", since=day(-60), until=day(-30)
    )
    assert loaded.journeys is None and loaded.outcomes == 0
    assert compare_models(loaded=loaded, models_wanted=["first"]) == {}
    assert OpportunityStage.WON == "won"
