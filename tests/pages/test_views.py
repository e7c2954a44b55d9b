"""Who may open which page, and what the pages show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.crm.models import (
    Activity,
    ActivityKind,
    ActivityOutcome,
    LeadSource,
    OpportunityContact,
    OpportunityStage,
)
from closedloop.crm.models import (
    LifecycleStage as S,
)
from closedloop.crm.services import change_stage
from closedloop.engagement.models import Touchpoint, TouchpointType
from tests.factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/leads/", "/leads/1/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("who", ["alice", "charlie", "mia", "max_manager", "eve", "ada"])
@pytest.mark.parametrize("url", ["/", "/leads/"])
def test_every_role_can_open_home_and_the_leads_list(request, client_as, who, url):
    assert client_as(request.getfixturevalue(who)).get(url).status_code == 200


def test_a_rep_cannot_open_a_lead_of_another_team(client_as, alice, charlie):
    lead = make_lead(owner=charlie)
    assert client_as(alice).get(f"/leads/{lead.pk}/").status_code == 404
    assert client_as(charlie).get(f"/leads/{lead.pk}/").status_code == 200


def test_a_rep_can_open_a_teammates_lead_but_not_an_unassigned_one(client_as, alice, bob):
    assert client_as(alice).get(f"/leads/{make_lead(owner=bob).pk}/").status_code == 200
    assert client_as(alice).get(f"/leads/{make_lead().pk}/").status_code == 404


def test_a_manager_opens_unassigned_leads_and_marketing_opens_all(
    client_as, max_manager, mia, charlie
):
    unassigned, western = make_lead(), make_lead(owner=charlie)
    assert client_as(max_manager).get(f"/leads/{unassigned.pk}/").status_code == 200
    assert client_as(max_manager).get(f"/leads/{western.pk}/").status_code == 404
    assert client_as(mia).get(f"/leads/{western.pk}/").status_code == 200


def test_a_missing_lead_is_a_404(client_as, ada):
    assert client_as(ada).get("/leads/999999/").status_code == 404


def test_the_leads_list_shows_only_visible_leads(client_as, alice, bob, charlie):
    mine, teammate = make_lead(owner=alice), make_lead(owner=bob)
    make_lead(owner=charlie)
    response = client_as(alice).get("/leads/")
    assert set(response.context["page"].rows) == {mine, teammate}
    assert f'href="{reverse("lead-detail", args=[mine.pk])}"' in response.content.decode()


def test_home_shows_stage_counts_and_the_chart_data(client_as, ada, alice):
    lead = make_lead(owner=alice, stage=S.LEAD, source=LeadSource.WEBINAR)
    change_stage(lead, to=S.MQL, by=alice, reason="downloaded the pricing guide")
    response = client_as(ada).get("/")
    assert response.context["snap"].stages["mql"] == 1
    html = response.content.decode()
    assert 'id="weekly-data" type="application/json"' in html
    assert "downloaded the pricing guide" in html
    assert "figures as of" in html
    assert response.context["chart_data"]["datasets"][0]["data"][-1] == 1


def test_a_lead_named_like_a_script_is_escaped_everywhere(client_as, ada):
    lead = make_lead(first_name="<script>alert(1)</script>", company="<b>Evil</b> & Co")
    change_stage(lead, to=S.MQL, reason="<img src=x onerror=alert(2)>")
    for url in ["/", "/leads/", f"/leads/{lead.pk}/", "/leads/?q=%3Cscript%3E"]:
        html = client_as(ada).get(url).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(1)" in html or url == "/", url
    assert "&lt;img src=x onerror=alert(2)&gt;" in client_as(ada).get("/").content.decode()


def test_lead_detail_shows_account_owner_scores_and_history(client_as, ada, alice):
    account = make_account("Acme Corp", domain="acme.example")
    lead = make_lead(
        owner=alice,
        account=account,
        fit_grade="A-",
        score=81,
        score_reasons=[
            {"text": "Works at a 500+ person company", "effect": 12.5},
            {"text": "No visit in 60 days", "effect": -4},
            {"text": "Opened three emails", "effect": 3},
            "not a reason",
        ],
    )
    change_stage(lead, to=S.MQL, reason="score crossed 70")
    html = client_as(ada).get(f"/leads/{lead.pk}/").content.decode()
    assert "acme.example" in html and "Acme Corp" in html and "Alice" in html and "East" in html
    assert "score crossed 70" in html and "A-" in html
    reasons = html[html.index('id="score-reasons"') :]
    assert reasons.index("+12.5") < reasons.index("−4") < reasons.index("+3")


def test_a_lead_without_score_reasons_says_it_is_not_scored_yet(client_as, ada):
    lead = make_lead()
    assert "Not scored yet." in client_as(ada).get(f"/leads/{lead.pk}/").content.decode()


def test_the_timeline_merges_touchpoints_activities_and_opportunities_newest_first(
    client_as, ada, alice
):
    now = timezone.now()
    lead = make_lead(owner=alice)
    campaign = Campaign.objects.create(
        name="Spring webinar", type="webinar", channel="web", starts_on=now.date()
    )
    Touchpoint.objects.create(
        lead=lead,
        type=TouchpointType.WEBINAR,
        campaign=campaign,
        occurred_at=now - timedelta(days=3),
    )
    Activity.objects.create(
        lead=lead,
        rep=alice,
        kind=ActivityKind.CALL,
        outcome=ActivityOutcome.MEETING_BOOKED,
        notes="Wants a demo",
        at=now - timedelta(days=2),
    )
    deal = make_opportunity(
        name="Acme expansion",
        stage=OpportunityStage.LOST,
        lost_reason="price",
        amount=12000,
        owner=alice,
    )
    OpportunityContact.objects.create(opportunity=deal, lead=lead)
    timeline = client_as(ada).get(f"/leads/{lead.pk}/").context["timeline"]
    assert [item.kind for item in timeline] == ["opportunity", "activity", "touchpoint"]
    html = client_as(ada).get(f"/leads/{lead.pk}/").content.decode()
    for text in ["Spring webinar", "Meeting booked", "Wants a demo", "Acme expansion", "Price"]:
        assert text in html


def test_a_rep_does_not_see_another_teams_opportunity_on_a_shared_lead(client_as, alice, charlie):
    lead = make_lead(owner=alice)
    OpportunityContact.objects.create(opportunity=make_opportunity(owner=charlie), lead=lead)
    assert client_as(alice).get(f"/leads/{lead.pk}/").context["timeline"] == []
