"""The handoff API: token auth, permissions, the standard error body."""

import pytest
from django.utils import timezone

from closedloop.core.services import create_api_token
from closedloop.crm.models import LifecycleStage
from closedloop.handoff.models import Rejection
from closedloop.handoff.sla import start_clock
from tests.factories import make_lead


def bearer(user):
    return {"HTTP_AUTHORIZATION": f"Bearer {create_api_token(user=user, name='t')[1]}"}


@pytest.fixture
def lead(alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL, score=50)
    start_clock(lead, at=timezone.now())
    return lead


def test_the_inbox_lists_the_reps_leads_with_timers(client, alice, lead):
    body = client.get("/api/v1/handoff/inbox", **bearer(alice)).json()
    assert [row["id"] for row in body] == [lead.pk]
    assert body[0]["timers"][0]["label"] == "First touch"


def test_the_api_needs_a_token(client):
    assert client.get("/api/v1/handoff/inbox").status_code == 401


def test_accepting_through_the_api(client, alice, lead):
    response = client.post(f"/api/v1/handoff/leads/{lead.pk}/accept", **bearer(alice))
    assert response.status_code == 200 and response.json()["stage"] == "sal"


def test_a_rep_cannot_accept_another_reps_lead_through_the_api(client, bob, lead):
    assert client.post(f"/api/v1/handoff/leads/{lead.pk}/accept", **bearer(bob)).status_code == 403


def test_rejecting_with_an_unknown_reason_names_the_field(client, alice, lead):
    response = client.post(
        f"/api/v1/handoff/leads/{lead.pk}/reject",
        {"reason": "nope"},
        content_type="application/json",
        **bearer(alice),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"


def test_rejecting_through_the_api_and_marketing_reading_the_feedback(client, alice, mia, lead):
    client.post(
        f"/api/v1/handoff/leads/{lead.pk}/reject",
        {"reason": "wrong-fit", "note": "tiny shop"},
        content_type="application/json",
        **bearer(alice),
    )
    assert Rejection.objects.get(lead=lead).note == "tiny shop"
    body = client.get("/api/v1/handoff/feedback?days=7", **bearer(mia)).json()
    assert body["total"] == 1 and body["notes"][0]["note"] == "tiny shop"
    assert body["by_reason"] == [{"reason": "Wrong fit", "count": 1}]


def test_marketing_cannot_reassign_through_the_api(client, mia, bob, lead):
    response = client.post(
        "/api/v1/handoff/reassign",
        {"lead_ids": [lead.pk], "to": bob.pk, "reason": "x"},
        content_type="application/json",
        **bearer(mia),
    )
    assert response.status_code == 403


def test_the_sla_report_has_both_sides(client, eve):
    body = client.get("/api/v1/handoff/sla", **bearer(eve)).json()
    assert set(body) >= {"first_touch", "by_rep", "by_team", "weeks", "marketing"}
    assert body["numbers"]["first_touch_minutes"] == 240


def test_reassigning_another_teams_lead_is_a_404_like_a_missing_one(
    client, bob, charlie, max_manager
):
    theirs = make_lead(owner=charlie, stage=LifecycleStage.MQL)

    def reassign(lead_id):
        return client.post(
            "/api/v1/handoff/reassign",
            {"lead_ids": [lead_id], "to": bob.pk, "reason": "x"},
            content_type="application/json",
            **bearer(max_manager),
        )

    hidden, missing = reassign(theirs.pk), reassign(theirs.pk + 1000)
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json()["errors"][0]["field"] == "lead_ids"
    theirs.refresh_from_db()
    assert theirs.owner == charlie
