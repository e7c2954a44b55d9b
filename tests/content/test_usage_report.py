"""Marketing's usage report, read from the tables: per-asset figures, the library figures,
the pages (marketing only), their CSV and the API."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closedloop.content.services import sharing, usage
from closedloop.content.usage_models import UsageKind
from closedloop.core.services import create_api_token
from closedloop.crm.models import OpportunityContact, OpportunityStage
from closedloop.engagement.services import record_touchpoint
from tests.content.conftest import add_asset
from tests.factories import make_lead, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, mia):
    """Two published assets; `used` was shared with the contact of a won 10,000 deal and of
    an open 4,000 deal, and viewed; `idle` was never touched."""
    used = add_asset(mia, title="Used one")
    idle = add_asset(mia, title="Idle one")
    now = timezone.now()
    won_lead, open_lead = make_lead(owner=alice), make_lead(owner=alice)
    won = make_opportunity(amount=10_000, stage=OpportunityStage.WON, closed_at=now, owner=alice)
    still = make_opportunity(amount=4_000, owner=alice)
    for opp, lead in ((won, won_lead), (still, open_lead)):
        OpportunityContact.objects.create(opportunity=opp, lead=lead)
        sharing.share_asset(used, lead=lead, by=alice, now=now - timedelta(days=2))
    record_touchpoint(
        lead=won_lead, type="content_view", content=used, occurred_at=now - timedelta(days=1)
    )
    sharing.record_usage(used, by=alice, kind=UsageKind.OPEN)
    return used, idle


def test_an_assets_figures(world, alice):
    used, idle = world
    report = usage.library_report()
    row = usage.asset_row(report, used.pk)
    assert row["shares"] == 2 and row["buyer_views"] == 1 and row["rep_opens"] == 1
    assert row["reps"] == 1 and row["leads_touched"] == 2
    assert row["opportunities_touched"] == 2
    assert row["pipeline_influenced"] == 14_000 and row["won_revenue_influenced"] == 10_000
    assert row["lift_enough_data"] is False  # two deals say nothing about a win rate
    assert usage.asset_row(report, idle.pk)["days_since_last_use"] is None


def test_the_library_figures_and_the_bottom_fifth(world):
    used, idle = world
    summary = usage.library_summary(usage.library_report())
    assert summary["published_assets"] == 2
    assert summary["unused_share_90d"] == 0.5
    assert [b["id"] for b in summary["bottom"]] == [idle.pk]
    assert summary["bottom"][0]["why"] == "never found"


def test_the_report_pages_are_marketings_and_a_404_for_reps(world, mia, alice):
    used, _ = world
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("content-report")).status_code == 404
    assert client.get(reverse("content-asset-usage", args=[used.pk])).status_code == 404
    client.force_login(mia)
    page = client.get(reverse("content-report"))
    assert page.status_code == 200 and "Idle one" in page.content.decode()
    detail = client.get(reverse("content-asset-usage", args=[used.pk])).content.decode()
    assert "Used one" in detail and "14000" in detail.replace(",", "")


@pytest.mark.parametrize("query", ["?format=csv", "?format=csv&table=bottom"])
def test_every_report_table_downloads_as_csv(world, mia, query):
    client = Client()
    client.force_login(mia)
    response = client.get(reverse("content-report") + query)
    assert response["Content-Type"].startswith("text/csv")
    assert "Idle one" in response.content.decode()


@pytest.mark.parametrize("table", ["reps", "links", "views"])
def test_every_asset_table_downloads_as_csv(world, mia, table):
    used, _ = world
    client = Client()
    client.force_login(mia)
    response = client.get(
        reverse("content-asset-usage", args=[used.pk]) + f"?format=csv&table={table}"
    )
    assert response["Content-Type"].startswith("text/csv")
    assert len(response.content.decode().splitlines()) >= 2


def test_the_api_report_and_share(world, mia, alice):
    used, _ = world
    headers = {"Authorization": f"Bearer {create_api_token(user=mia, name='t')[1]}"}
    body = Client().get("/api/v1/content/report", headers=headers).json()
    assert body["published_assets"] == 2 and len(body["assets"]) == 2
    rep = {"Authorization": f"Bearer {create_api_token(user=alice, name='t')[1]}"}
    assert Client().get("/api/v1/content/report", headers=rep).status_code == 403
    lead = make_lead(owner=alice)
    shared = Client().post(
        f"/api/v1/content/assets/{used.pk}/share",
        {"lead": lead.pk},
        content_type="application/json",
        headers=rep,
    )
    assert shared.status_code == 201 and "/s/" in shared.json()["url"]
    refused = Client().post(
        f"/api/v1/content/assets/{used.pk}/share",
        {"lead": 987654},
        content_type="application/json",
        headers=rep,
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "lead"


def test_the_scoreboard_tile(world):
    tile = usage.usage_tile()
    assert tile["shares"] == 2 and tile["reps_sharing"] == 1
    assert tile["published_assets"] == 2 and tile["unused_share_90d"] == 0.5
