"""The pipeline through the API: qualify a lead, move, close and reopen its deal, with the
same rules, history and events as every other door."""

from __future__ import annotations

import pytest

from closedloop.core import events
from closedloop.crm.models import LifecycleStage, Opportunity, OpportunityContact
from tests.api.conftest import problems
from tests.factories import make_lead, make_opportunity

pytestmark = pytest.mark.django_db

ANSWERS = {
    "budget": {"confirmed": True, "evidence": "Budget approved"},
    "authority": {"confirmed": True, "evidence": "VP signs"},
    "need": {"confirmed": True, "evidence": "Manual handoff loses leads"},
}
DEAL = {"name": "Acme: rollout", "amount": 30000, "close_date": "2027-01-31"}


def test_a_rep_qualifies_their_accepted_lead_and_opens_the_deal(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL, email="ada@acme.example")
    response = api_as(alice).post(
        f"/leads/{lead.pk}/qualify", {"answers": ANSWERS, "note": "Call went well", "deal": DEAL}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stage"], body["confirmed"]) == ("opportunity", 3)
    deal = Opportunity.objects.get(pk=body["opportunity_id"])
    assert (deal.account_id, deal.amount, deal.owner) == (body["account_id"], 30000, alice)


def test_failing_the_sql_rule_is_a_422_naming_what_is_missing(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL)
    answers = {"budget": ANSWERS["budget"]}
    response = api_as(alice).post(f"/leads/{lead.pk}/qualify", {"answers": answers})
    assert response.status_code == 422
    assert "confirm 2 more of Authority, Need or Timeline" in problems(response)["answers"]
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL


def test_a_deal_without_a_close_date_is_a_422_on_the_field(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL)
    body = {"answers": ANSWERS, "deal": {"amount": 10}}
    response = api_as(alice).post(f"/leads/{lead.pk}/qualify", body)
    assert response.status_code == 422
    assert set(problems(response)) == {"deal.close_date"}


def test_another_teams_lead_is_a_404(api_as, bob, charlie):
    theirs = make_lead(owner=charlie, stage=LifecycleStage.SAL)
    response = api_as(bob).post(f"/leads/{theirs.pk}/qualify", {"answers": ANSWERS})
    assert response.status_code == 404


def test_a_teammate_sees_but_cannot_qualify_a_reps_lead(api_as, alice, bob):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL)
    response = api_as(bob).post(f"/leads/{lead.pk}/qualify", {"answers": ANSWERS})
    assert response.status_code == 403


def test_the_pipeline_and_the_close_reasons_are_readable(api_as, alice):
    stages = api_as(alice).get("/pipeline").json()["stages"]
    assert [(s["code"], s["probability"]) for s in stages][:2] == [
        ("discovery", 10),
        ("proposal", 50),
    ]
    lost = api_as(alice).get("/close-reasons", {"outcome": "lost"}).json()
    assert {r["code"] for r in lost} >= {"price", "competitor"}


def test_a_deal_moves_then_closes_lost_once_with_its_history(api_as, alice, heard):
    deal = make_opportunity(owner=alice)
    api = api_as(alice)
    moved = api.post(f"/opportunities/{deal.pk}/move", {"stage": "negotiation"})
    assert (moved.status_code, moved.json()["probability"]) == (200, 75)
    no_note = api.post(
        f"/opportunities/{deal.pk}/close", {"outcome": "lost", "reason": "price", "note": ""}
    )
    assert problems(no_note) == {"close_note": "closing a deal needs a note saying what happened"}
    body = {"outcome": "lost", "reason": "price", "note": "Cheaper rival"}
    lost = heard(events.opportunity_lost, lambda: api.post(f"/opportunities/{deal.pk}/close", body))
    assert heard.result.status_code == 200, heard.result.content
    assert [p["opportunity_id"] for p in lost] == [deal.pk]
    history = api.get(f"/opportunities/{deal.pk}/history").json()
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        ("negotiation", "lost"),
        ("discovery", "negotiation"),
    ]


def test_winning_moves_the_contact_to_customer(api_as, alice):
    deal = make_opportunity(owner=alice)
    lead = make_lead(owner=alice, stage=LifecycleStage.OPPORTUNITY)
    OpportunityContact.objects.create(opportunity=deal, lead=lead)
    body = {"outcome": "won", "reason": "value", "note": "Signed"}
    assert api_as(alice).post(f"/opportunities/{deal.pk}/close", body).status_code == 200
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.CUSTOMER


def test_a_closed_deal_moves_only_when_an_admin_reopens_it(api_as, alice, ada):
    deal = make_opportunity(owner=alice, stage="lost", lost_reason="price")
    refused = api_as(alice).post(f"/opportunities/{deal.pk}/move", {"stage": "proposal"})
    assert "reopen it" in problems(refused)["stage"]
    body = {"reason": "They came back", "stage": "proposal"}
    assert api_as(alice).post(f"/opportunities/{deal.pk}/reopen", body).status_code == 403
    reopened = api_as(ada).post(f"/opportunities/{deal.pk}/reopen", body)
    assert (reopened.status_code, reopened.json()["stage"]) == (200, "proposal")


def test_a_teammates_deal_is_seen_but_not_moved_and_another_teams_is_a_404(
    api_as, alice, bob, charlie
):
    ours, theirs = make_opportunity(owner=alice), make_opportunity(owner=charlie)
    api = api_as(bob)
    assert api.post(f"/opportunities/{ours.pk}/move", {"stage": "proposal"}).status_code == 403
    assert api.post(f"/opportunities/{theirs.pk}/move", {"stage": "proposal"}).status_code == 404


def test_a_leads_qualifications_read_back_with_their_evidence(api_as, alice, charlie):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL)
    api_as(alice).post(f"/leads/{lead.pk}/qualify", {"answers": ANSWERS, "note": "Good"})
    [q] = api_as(alice).get(f"/leads/{lead.pk}/qualifications").json()
    assert (q["by"], q["note"], q["stage"]) == ("alice@example.com", "Good", "sql")
    assert q["answers"]["budget"] == {"confirmed": True, "evidence": "Budget approved"}
    assert api_as(charlie).get(f"/leads/{lead.pk}/qualifications").status_code == 404


def test_a_lead_qualified_without_a_deal_opens_it_through_the_api(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL, email="x@initech.example")
    api_as(alice).post(f"/leads/{lead.pk}/qualify", {"answers": ANSWERS})
    opened = api_as(alice).post(f"/leads/{lead.pk}/open-opportunity", DEAL)
    assert opened.status_code == 201, opened.content
    assert opened.json()["stage"] == "opportunity"
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.OPPORTUNITY
