"""Campaigns: the service is the one door, pages and API for marketing, reading for everyone."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from closedloop.campaigns import services
from closedloop.campaigns.models import Campaign

pytestmark = pytest.mark.django_db

WEBINAR = {
    "name": "Spring webinar",
    "type": "webinar",
    "channel": "web",
    "starts_on": date(2026, 4, 1),
    "ends_on": date(2026, 4, 30),
    "cost": "3000",
}


def make_campaign(by, **changes):
    return services.create_campaign(by=by, **{**WEBINAR, **changes})


def test_marketing_creates_a_campaign_it_then_owns(mia):
    campaign = make_campaign(mia)
    assert (campaign.owner, campaign.cost, campaign.currency) == (mia, Decimal("3000.00"), "USD")


@pytest.mark.parametrize("role", ["alice", "max_manager", "eve"])
def test_sales_and_executives_cannot_create_or_edit_campaigns(request, role, mia):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        make_campaign(user)
    with pytest.raises(PermissionDenied):
        services.update_campaign(make_campaign(mia), by=user, cost=1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"ends_on": date(2026, 3, 1)}, "ends_on"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "lots"}, "cost"),
        ({"currency": "dollars"}, "currency"),
        ({"channel": "carrier pigeon"}, "channel"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(mia, changes, field):
    with pytest.raises(services.InvalidCampaign) as refused:
        make_campaign(mia, **changes)
    assert refused.value.field == field


def test_the_cost_of_a_period_is_the_share_of_the_campaigns_days_in_it(mia):
    campaign = make_campaign(mia)  # 30 days, 3,000: 100 a day
    assert services.cost_in_period(campaign, date(2026, 4, 21), date(2026, 5, 31)) == 1000
    assert services.cost_in_period(campaign, date(2026, 1, 1), date(2026, 3, 31)) == 0
    assert services.cost_in_period(campaign, date(2026, 1, 1), date(2026, 12, 31)) == 3000


def test_an_open_ended_campaign_spreads_its_cost_over_a_year(mia):
    campaign = make_campaign(mia, ends_on=None, cost="36500")
    assert services.cost_in_period(campaign, date(2026, 4, 1), date(2026, 4, 10)) == 1000


def test_the_campaign_pages_list_for_everyone_and_edit_for_marketing(mia, alice):
    campaign = make_campaign(mia)
    rep = Client()
    rep.force_login(alice)
    page = rep.get("/campaigns/")
    assert page.status_code == 200 and b"Spring webinar" in page.content
    assert b"New campaign" not in page.content
    assert rep.get(f"/campaigns/{campaign.pk}/edit/").status_code == 403
    marketer = Client()
    marketer.force_login(mia)
    posted = marketer.post(
        f"/campaigns/{campaign.pk}/edit/",
        {**WEBINAR, "name": "Spring webinar II", "currency": "eur"},
    )
    assert posted.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.currency) == ("Spring webinar II", "EUR")


def test_the_edit_page_shows_a_refusal_beside_the_field(mia):
    client = Client()
    client.force_login(mia)
    bad = {**WEBINAR, "ends_on": "2026-01-01", "currency": "USD"}
    response = client.post("/campaigns/new/", bad)
    assert response.status_code == 422
    assert b"must be on or after the start" in response.content
    assert not Campaign.objects.exists()
