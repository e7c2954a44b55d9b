"""Campaign ROI: the ratios on hand-computed figures, and the figures from the database."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from closedloop.analytics.engine.roi import (
    CampaignFigures,
    most_disputed,
    return_on_cost,
    unit_costs,
)
from closedloop.analytics.roi import campaign_roi
from closedloop.analytics.scope import COMPANY, Scope, scope_for
from closedloop.campaigns.models import Campaign
from closedloop.crm.models import OpportunityContact, StageChange
from closedloop.engagement.models import Touchpoint
from tests.factories import make_lead, make_opportunity

FIGURES = CampaignFigures(
    "Webinar",
    cost=12_000,
    leads=400,
    mqls=120,
    sqls=30,
    opportunities=10,
    won=4,
    revenue_by_model={"first": 60_000, "last": 6_000},
)


def test_unit_costs_divide_the_cost_by_each_volume():
    assert unit_costs(FIGURES) == {
        "cost_per_lead": 30,
        "cost_per_mql": 100,
        "cost_per_sql": 400,
        "cost_per_opportunity": 1200,
        "cac": 3000,
    }


def test_a_volume_of_zero_has_no_unit_cost_and_a_free_campaign_no_roi():
    free = CampaignFigures("Referral", cost=0, leads=0, revenue_by_model={"first": 10.0})
    assert unit_costs(free)["cost_per_lead"] is None
    assert return_on_cost(free) == {"first": None}
    assert return_on_cost(FIGURES) == {"first": 5.0, "last": 0.5}


def test_the_most_disputed_campaigns_come_first():
    agreed = CampaignFigures("Email", cost=1, revenue_by_model={"first": 5, "last": 5})
    assert most_disputed([agreed, FIGURES], ["first", "last"], 3) == [(FIGURES, 54_000)]


T0 = datetime(2026, 3, 1, tzinfo=UTC)


def day(n):
    return T0 + timedelta(days=n)


@pytest.fixture
def campaigns(mia, alice, charlie):
    """A webinar (cost 3,000 over March) sourced two East leads, one an SQL, and a won deal of
    9,000; an ad campaign (cost 1,000) touched the deal's lead first; West has nothing."""
    webinar = Campaign.objects.create(
        name="Webinar",
        type="webinar",
        channel="web",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 30),
        cost=3000,
        owner=mia,
    )
    ads = Campaign.objects.create(
        name="Ads",
        type="paid_search",
        channel="search",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 30),
        cost=1000,
        owner=mia,
    )
    lead = make_lead(owner=alice, created_at=day(1), original_campaign=webinar, stage="sql")
    lead.mql_at = day(2)
    lead.save()
    make_lead(owner=alice, created_at=day(3), original_campaign=webinar)
    make_lead(owner=charlie, created_at=day(3))
    Touchpoint.objects.create(lead=lead, type="ad_click", campaign=ads, occurred_at=day(0))
    Touchpoint.objects.create(lead=lead, type="webinar", campaign=webinar, occurred_at=day(1))
    deal = make_opportunity(owner=alice, amount=9000, campaign=webinar)
    deal.created_at, deal.stage, deal.closed_at = day(5), "won", day(20)
    deal.save()
    OpportunityContact.objects.create(opportunity=deal, lead=lead)
    return webinar, ads


def figures(scope, **kwargs):
    report = campaign_roi(scope=scope, since=T0, until=day(30), models=("first", "last"))
    return {row.name: row for row in report.campaigns}


def test_roi_counts_what_each_campaign_sourced_and_what_each_model_credits(campaigns):
    rows = figures(COMPANY)
    webinar, ads = rows["Webinar"], rows["Ads"]
    assert (webinar.cost, webinar.leads, webinar.mqls, webinar.sqls) == (3000, 2, 1, 1)
    assert (webinar.opportunities, webinar.won) == (1, 1)
    assert webinar.revenue_by_model == {"first": 0.0, "last": 9000.0}
    assert ads.revenue_by_model == {"first": 9000.0, "last": 0.0}
    assert unit_costs(webinar)["cac"] == 3000
    assert return_on_cost(ads)["first"] == 9.0


def test_a_stage_change_to_sql_counts_a_lead_that_moved_on_since(campaigns, alice):
    webinar, _ = campaigns
    later = make_lead(owner=alice, created_at=day(4), original_campaign=webinar, stage="recycled")
    StageChange.objects.create(lead=later, from_stage="sal", to_stage="sql", at=day(6))
    assert figures(COMPANY)["Webinar"].sqls == 2


def test_a_reps_scope_is_their_team_and_west_sees_only_the_costs(campaigns, charlie, alice, east):
    assert scope_for(alice, team_id=None) == Scope(team_id=east.pk)
    west = figures(scope_for(charlie))
    assert west["Webinar"].leads == 0 and west["Webinar"].cost == 3000
    assert west["Webinar"].revenue_by_model == {}


def test_the_roi_page_shows_each_campaign_and_exports_the_table_as_csv(campaigns, mia):
    client = Client()
    client.force_login(mia)
    params = {"since": "2026-03-01", "until": "2026-03-30"}
    page = client.get("/analytics/campaigns/", params)
    assert page.status_code == 200
    assert b'data-campaign="Webinar"' in page.content and b"roi-data" in page.content
    exported = client.get("/analytics/campaigns/", {**params, "format": "csv"})
    lines = exported.content.decode().splitlines()
    assert lines[0].startswith("campaign,cost,leads,mqls,sqls")
    assert any(line.startswith("Webinar,3000.0000,2,1,1,1,1") for line in lines)


def test_the_roi_api_gives_every_figure_for_the_company_or_one_team(api_as, campaigns, eve, east):
    params = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-31T00:00:00Z"}
    body = api_as(eve).get("/analytics/campaign-roi", params).json()
    webinar = next(c for c in body["campaigns"] if c["campaign"] == "Webinar")
    assert (webinar["cac"], webinar["revenue_by_model"]["last"]) == (3000, 9000)
    assert body["scope"] == "all"
    team = api_as(eve).get("/analytics/campaign-roi", {**params, "team": east.pk}).json()
    assert team["scope"] == f"team:{east.pk}"
