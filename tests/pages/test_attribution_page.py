"""The attribution page: models side by side, scoped to the user's team, bad input refused."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from closedloop.crm.models import Activity, OpportunityContact
from closedloop.engagement.models import Touchpoint
from tests.factories import make_lead, make_opportunity

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = {"since": "2026-03-01", "until": "2026-03-30"}


def deal(owner, channels, amount, *, call=False):
    lead = make_lead(owner=owner, created_at=T0)
    for n, channel in enumerate(channels):
        Touchpoint.objects.create(
            lead=lead, type="page_view", channel=channel, occurred_at=T0 + timedelta(days=n)
        )
    if call:
        Activity.objects.create(lead=lead, rep=owner, kind="call", at=T0 + timedelta(days=6))
    opportunity = make_opportunity(owner=owner, amount=amount)
    opportunity.created_at = T0 + timedelta(days=8)
    opportunity.save()
    OpportunityContact.objects.create(opportunity=opportunity, lead=lead)


@pytest.fixture
def deals(alice, charlie):
    deal(alice, ["search", "email", "web"], 1000, call=True)
    deal(alice, ["search"], 200)
    deal(charlie, ["social"], 400)


def test_the_page_compares_the_chosen_models_in_a_table_and_a_chart(client_as, eve, deals):
    params = {**PERIOD, "models": ["first", "last", "markov"]}
    response = client_as(eve).get("/analytics/attribution/", params)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-model="first"' in page and 'data-model="markov"' in page
    assert 'data-label="sales call"' in page and 'data-label="social"' in page
    chart = response.context["chart_data"]
    assert [d["label"] for d in chart["datasets"]] == [
        "First touch",
        "Last touch",
        "Markov (removal effect)",
    ]
    first = chart["datasets"][0]["data"]
    assert sum(first) == pytest.approx(3)
    assert json.dumps(chart) in page.replace("&quot;", '"') or "attribution-data" in page
    # First touch gives search both East deals, last touch gives it one: they disagree.
    assert "search" in [row["label"] for row in response.context["disagreements"]]


def test_a_rep_sees_only_their_teams_deals(client_as, alice, deals):
    response = client_as(alice).get("/analytics/attribution/", {**PERIOD, "models": ["first"]})
    labels = [row["label"] for row in response.context["table"]]
    assert "social" not in labels and "search" in labels
    assert response.context["loaded"].outcomes == 2


def test_default_filters_show_the_last_90_days(client_as, eve, deals):
    response = client_as(eve).get("/analytics/attribution/")
    assert response.status_code == 200
    assert response.context["form"].cleaned_data["models"] == [
        "first",
        "last",
        "w_shaped",
        "markov",
    ]


def test_bad_filters_are_a_400_naming_the_field_and_nothing_is_computed(client_as, eve):
    response = client_as(eve).get(
        "/analytics/attribution/", {"since": "2026-04-01", "until": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "must be on or before the last day" in response.content.decode()
    response = client_as(eve).get("/analytics/attribution/", {"models": "z_shaped"})
    assert response.status_code == 400 and "loaded" not in response.context


def test_a_label_is_escaped_on_the_page(client_as, eve, alice):
    # Touchpoint.channel holds 12 characters.
    deal(alice, ["<b>x</b>"], 100)
    page = client_as(eve).get("/analytics/attribution/", PERIOD).content.decode()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/analytics/attribution/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_table_downloads_as_csv_with_formula_like_labels_neutralised(client_as, eve, alice):
    deal(alice, ["=cmd", "web"], 300)
    params = {**PERIOD, "models": ["first", "last"], "format": "csv"}
    response = client_as(eve).get("/analytics/attribution/", params)
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "label,first_conversions,first_value,last_conversions,last_value"
    assert "'=cmd,1.000000,300.00,0.000000,0.00" in lines
    assert "web,0.000000,0.00,1.000000,300.00" in lines
