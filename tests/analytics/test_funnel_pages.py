"""The funnel page, its CSV and its API: role-scoped numbers, drill-downs that open exactly the
leads counted, bounded queries."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from closedloop.core.permissions import visible
from closedloop.core.services import create_api_token
from closedloop.crm.filters import filter_leads
from closedloop.crm.models import Lead
from tests.api.conftest import Api
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERIOD = {"since": "2026-01-01", "until": "2026-12-31"}


def lead(owner, stages: dict[str, float], **extra) -> Lead:
    stamps = {f"{stage}_at": T0 + timedelta(days=d) for stage, d in stages.items()}
    return make_lead(owner=owner, created_at=T0, **stamps, **extra)


@pytest.fixture
def company(alice, bob, charlie):
    """East (Alice, Bob) has 3 leads, West (Charlie) 2."""
    lead(alice, {"lead": 0, "mql": 1, "sal": 2}, source="webinar", email="a1@x.io")
    lead(alice, {"lead": 0, "mql": 3}, source="webinar", email="a2@x.io")
    lead(bob, {"lead": 0}, source="event", email="b1@x.io")
    lead(charlie, {"lead": 0, "mql": 2}, source="webinar", email="c1@x.io")
    lead(charlie, {"lead": 0, "mql": 5, "sal": 6, "sql": 7}, source="event", email="c2@x.io")


@pytest.fixture
def api_for():
    """api_for(user): an API client with a fresh token of `user`."""
    return lambda user: Api(create_api_token(user=user, name="tests")[1])


def api_funnel(api, **params):
    response = api.get("/analytics/funnel", {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return response.json()


def leads_behind(user, url: str) -> set[str]:
    """The leads the leads list shows `user` for a drill-down URL."""
    parts = urlsplit(url)
    assert parts.path == "/leads/"
    leads, cleaned = filter_leads(visible(Lead.objects.all(), user), dict(parse_qsl(parts.query)))
    assert cleaned.errors == []
    return {lead.email for lead in leads}


def test_a_rep_sees_their_team_s_numbers_and_an_executive_everything(company, api_for, alice, eve):
    assert api_funnel(api_for(alice))["total"]["leads"] == 3
    assert api_funnel(api_for(eve))["total"]["leads"] == 5


def test_an_executive_can_narrow_to_one_team_but_a_rep_cannot_choose_one(
    company, api_for, alice, eve, charlie
):
    west = api_funnel(api_for(eve), team=charlie.team_id)
    assert west["total"]["leads"] == 2
    response = api_for(alice).get("/analytics/funnel", {**PERIOD, "team": charlie.team_id})
    assert response.status_code == 422 and "team" in response.content.decode()


def test_every_drill_down_opens_exactly_the_leads_counted(company, api_for, alice, eve, charlie):
    for user, params in ((eve, {}), (alice, {}), (eve, {"team": charlie.team_id})):
        report = api_funnel(api_for(user), **params)
        for group in [report["total"], *report["groups"], *report["trend"]]:
            for step in group["steps"]:
                assert len(leads_behind(user, step["entered_leads"])) == step["entered"]
                assert len(leads_behind(user, step["converted_leads"])) == step["converted"]


def test_drill_downs_by_every_dimension_match_their_counts(company, api_for, eve):
    for dimension in ("campaign", "channel", "industry", "size", "country", "rep", "team"):
        report = api_funnel(api_for(eve), dimension=dimension)
        for group in report["groups"]:
            step = group["steps"][0]
            assert len(leads_behind(eve, step["entered_leads"])) == step["entered"], dimension


def test_the_page_shows_the_groups_with_links_and_charts(company, client, eve):
    client.force_login(eve)
    response = client.get("/analytics/funnel/", PERIOD)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="funnel-groups"' in body and 'data-group="webinar"' in body
    assert "/leads/?reached=mql&amp;source=webinar" in body
    assert 'id="funnel-stage-data"' in body and 'id="funnel-trend-data"' in body


def test_the_page_of_a_rep_has_no_team_choice_and_only_their_team(company, client, alice):
    client.force_login(alice)
    body = client.get("/analytics/funnel/", PERIOD).content.decode()
    assert 'name="team"' not in body
    assert "All leads (3)" in body


def test_the_csv_has_every_group_s_steps_whole_scope_first(company, client, eve):
    client.force_login(eve)
    response = client.get("/analytics/funnel/", {**PERIOD, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0]["group"] == "all" and rows[0]["stage"] == "lead"
    webinar_mql = next(r for r in rows if r["group"] == "webinar" and r["stage"] == "mql")
    assert (webinar_mql["entered"], webinar_mql["converted"]) == ("3", "1")


def test_a_bad_period_is_refused_naming_the_field(client, eve, api_for):
    client.force_login(eve)
    response = client.get("/analytics/funnel/", {"since": "2026-05-01", "until": "2026-01-01"})
    assert response.status_code == 400
    api = api_for(eve).get("/analytics/funnel", {"since": "2026-05-01", "until": "2026-01-01"})
    assert api.status_code == 422 and "since" in api.content.decode()


def test_the_page_s_queries_do_not_grow_with_groups(
    company, client, eve, django_assert_max_num_queries
):
    client.force_login(eve)
    for n in range(20):
        lead(None, {"lead": 0}, source="webinar", email=f"more{n}@x.io")
    with django_assert_max_num_queries(8):
        assert client.get("/analytics/funnel/", {**PERIOD, "dimension": "rep"}).status_code == 200


def test_the_funnel_needs_a_login(client):
    response = client.get("/analytics/funnel/")
    assert response.status_code == 302 and "/login" in response["Location"]
