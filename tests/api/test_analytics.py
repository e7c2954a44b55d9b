"""GET /api/v1/analytics/attribution: models side by side, scoped to what the user may see."""

from datetime import UTC, datetime, timedelta

import pytest

from closedloop.crm.models import OpportunityContact
from closedloop.engagement.models import Touchpoint
from tests.api.conftest import problems
from tests.factories import make_lead, make_opportunity

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-31T00:00:00Z"}


def deal(owner, channel, amount):
    lead = make_lead(owner=owner, created_at=T0 + timedelta(days=1))
    Touchpoint.objects.create(
        lead=lead, type="ad_click", channel=channel, occurred_at=T0 + timedelta(days=1)
    )
    opportunity = make_opportunity(owner=owner, amount=amount)
    opportunity.created_at = T0 + timedelta(days=5)
    opportunity.save()
    OpportunityContact.objects.create(opportunity=opportunity, lead=lead)


@pytest.fixture
def deals(alice, charlie):
    deal(alice, "search", 1000)
    deal(charlie, "social", 400)


def test_a_rep_sees_only_their_teams_numbers(api_as, alice, deals):
    response = api_as(alice).get("/analytics/attribution", {**PERIOD, "models": "first,markov"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcomes"] == 1
    assert body["models"]["first"] == [{"label": "search", "conversions": 1.0, "value": 1000.0}]
    assert set(body["models"]) == {"first", "markov"}


def test_an_executive_sees_everything(api_as, eve, deals):
    body = api_as(eve).get("/analytics/attribution", {**PERIOD, "models": "last"}).json()
    assert body["outcomes"] == 2
    assert [row["label"] for row in body["models"]["last"]] == ["search", "social"]


def test_bad_parameters_are_422s_naming_the_field(api_as, eve, deals):
    api = api_as(eve)
    response = api.get("/analytics/attribution", {**PERIOD, "models": "first,z_shaped"})
    assert response.status_code == 422
    assert "unknown model 'z_shaped'" in problems(response)["models"]
    response = api.get(
        "/analytics/attribution", {"since": PERIOD["until"], "until": PERIOD["since"]}
    )
    assert response.status_code == 422 and problems(response)["since"] == "must be before until"
    response = api.get("/analytics/attribution", {**PERIOD, "outcome": "bookings"})
    assert response.status_code == 422 and "outcome" in problems(response)


def test_without_a_token_the_numbers_are_refused(client, deals):
    assert client.get("/api/v1/analytics/attribution").status_code == 401
