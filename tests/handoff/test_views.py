"""The inbox, its htmx actions, the queue, disputes, the SLA page and the feedback report."""

from datetime import timedelta

import pytest
from django.utils import timezone

from closedloop.crm.models import Activity, LifecycleStage
from closedloop.handoff.models import Dispute, Rejection
from closedloop.handoff.sla import start_clock
from tests.factories import make_lead


@pytest.fixture
def lead(alice):
    lead = make_lead(
        owner=alice,
        stage=LifecycleStage.MQL,
        score=70,
        score_reasons=[{"text": "Industry we win in", "effect": 12}],
    )
    start_clock(lead, at=timezone.now())
    return lead


def login(client, user):
    client.force_login(user)
    return client


def test_the_inbox_shows_the_reps_leads_with_timers_and_score_reasons(client, alice, bob, lead):
    other = make_lead(owner=bob, stage=LifecycleStage.MQL)
    page = login(client, alice).get("/inbox/").content.decode()
    assert str(lead) in page and str(other) not in page
    assert "Industry we win in" in page and 'data-timer="first-touch"' in page


def test_the_inbox_orders_leads_by_score_times_urgency(client, alice):
    calm = make_lead(owner=alice, stage=LifecycleStage.MQL, score=60)
    start_clock(calm, at=timezone.now())
    late = make_lead(owner=alice, stage=LifecycleStage.MQL, score=30)
    start_clock(late, at=timezone.now() - timedelta(days=5))  # breached: urgency 3 → 90
    page = login(client, alice).get("/inbox/").content.decode()
    assert page.index(f'id="lead-{late.pk}"') < page.index(f'id="lead-{calm.pk}"')


def test_marketing_has_no_inbox(client, mia):
    assert login(client, mia).get("/inbox/").status_code == 403


def test_accepting_from_the_inbox_returns_the_updated_row(client, alice, lead):
    response = login(client, alice).post(f"/inbox/leads/{lead.pk}/accept/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Accepted" in response.content.decode()
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL


def test_a_rep_cannot_accept_a_teammates_lead_through_the_page(client, bob, lead):
    assert login(client, bob).post(f"/inbox/leads/{lead.pk}/accept/").status_code == 403


def test_a_rep_cannot_even_see_another_teams_lead(client, charlie, lead):
    assert login(client, charlie).post(f"/inbox/leads/{lead.pk}/accept/").status_code == 404


def test_rejecting_without_a_reason_answers_422_naming_the_field(client, alice, lead):
    response = login(client, alice).post(f"/inbox/leads/{lead.pk}/reject/", {"note": "meh"})
    assert response.status_code == 422
    assert "reason: a reason is required" in response.content.decode()
    assert response["HX-Retarget"] == f"#reject-{lead.pk}"


def test_rejecting_with_a_reason_records_it(client, alice, lead):
    response = login(client, alice).post(
        f"/inbox/leads/{lead.pk}/reject/", {"reason": "wrong-fit", "note": "a student"}
    )
    assert response.status_code == 200
    assert Rejection.objects.get(lead=lead).note == "a student"


def test_a_bad_reentry_date_is_refused_by_name(client, alice, lead):
    response = login(client, alice).post(
        f"/inbox/leads/{lead.pk}/reject/", {"reason": "not-now", "recycle_on": "next spring"}
    )
    assert (
        response.status_code == 422 and "recycle_on: expected a date" in response.content.decode()
    )


def test_logging_a_call_stops_the_first_touch_clock(client, alice, lead):
    response = login(client, alice).post(f"/inbox/leads/{lead.pk}/activity/", {"kind": "call"})
    assert response.status_code == 200 and 'data-state="met"' in response.content.decode()
    assert Activity.objects.filter(lead=lead, rep=alice).count() == 1


def test_the_poll_announces_a_new_lead(client, alice):
    since = timezone.now() - timedelta(minutes=1)
    make_lead(owner=alice, stage=LifecycleStage.MQL, assigned_at=timezone.now())
    response = login(client, alice).get("/inbox/poll/", {"since": since.isoformat()})
    assert "1 new lead assigned to you" in response.content.decode()


def test_the_manager_sees_the_unassigned_queue_and_assigns_from_it(client, alice, max_manager):
    waiting = make_lead(stage=LifecycleStage.MQL)
    page = login(client, max_manager).get("/inbox/").content.decode()
    assert 'id="unassigned-queue"' in page and str(waiting) in page
    client.post(f"/inbox/leads/{waiting.pk}/assign/", {"to": alice.pk})
    waiting.refresh_from_db()
    assert waiting.owner == alice


def test_a_manager_bulk_reassigns_with_a_reason(client, alice, bob, max_manager, lead):
    login(client, max_manager).post(
        "/inbox/reassign/", {"lead": [lead.pk], "to": bob.pk, "reason": "Alice is out"}
    )
    lead.refresh_from_db()
    assert lead.owner == bob


def test_a_claim_on_a_protected_lead_reaches_the_manager(client, alice, bob, max_manager, lead):
    Activity.objects.create(lead=lead, rep=alice, kind="call", at=timezone.now())
    login(client, bob).post(f"/inbox/leads/{lead.pk}/claim/", {"reason": "my contact"})
    dispute = Dispute.objects.get(lead=lead)
    page = login(client, max_manager).get("/handoff/disputes/").content.decode()
    assert "my contact" in page
    client.post("/handoff/disputes/", {"dispute": dispute.pk, "grant": "1", "note": "fair"})
    lead.refresh_from_db()
    assert lead.owner == bob


def test_the_sla_page_shows_both_sides(client, alice, lead, max_manager):
    from closedloop.handoff.services import log_activity

    log_activity(lead, by=alice, kind="call")
    page = login(client, max_manager).get("/handoff/sla/").content.decode()
    assert 'id="median-first-touch"' in page and "alice@example.com" in page
    assert 'id="marketing-delivery"' in page and "chart.umd.min.js" in page


def test_marketing_sees_the_feedback_with_notes(client, alice, mia, lead):
    from closedloop.handoff.services import reject_lead

    reject_lead(lead, by=alice, reason="wrong-fit", note="They sell to students")
    page = login(client, mia).get("/handoff/feedback/").content.decode()
    assert "They sell to students" in page and "Wrong fit" in page


def test_reps_do_not_see_the_feedback_report(client, alice):
    assert login(client, alice).get("/handoff/feedback/").status_code == 403


def test_pages_need_a_login(client):
    for url in ("/inbox/", "/handoff/sla/", "/handoff/feedback/", "/handoff/disputes/"):
        assert client.get(url).status_code == 302


def test_the_lead_detail_page_shows_the_sla_timers(client, alice, lead):
    page = login(client, alice).get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="lead-sla"' in page and 'data-timer="first-touch"' in page


def test_an_admin_manages_the_rejection_reasons_in_the_admin(client, ada):
    page = login(client, ada).get("/admin/handoff/rejectionreason/")
    assert page.status_code == 200 and "Wrong fit" in page.content.decode()
    client.post(
        "/admin/handoff/rejectionreason/add/",
        {
            "code": "competitor-customer",
            "label": "Already a competitor's customer",
            "path": "recycle",
            "recycle_days": 180,
            "is_active": "on",
            "position": 5,
        },
    )
    from closedloop.handoff.models import RejectionReason

    assert RejectionReason.objects.get(code="competitor-customer").recycle_days == 180


def test_bad_data_waits_in_the_marketing_ops_queue_until_resolved(client, alice, mia, lead):
    from closedloop.handoff.services import reject_lead

    rejection = reject_lead(lead, by=alice, reason="bad-data", note="Phone number is fake")
    page = login(client, mia).get("/handoff/feedback/").content.decode()
    assert 'id="bad-data-queue"' in page and "Phone number is fake" in page
    client.post("/handoff/feedback/", {"rejection": rejection.pk})
    rejection.refresh_from_db()
    assert rejection.resolved_at is not None


def test_a_manager_cannot_resolve_marketing_ops_work(client, alice, max_manager, lead):
    from closedloop.handoff.services import reject_lead

    rejection = reject_lead(lead, by=alice, reason="bad-data")
    response = login(client, max_manager).post("/handoff/feedback/", {"rejection": rejection.pk})
    assert response.status_code == 403


def test_a_rep_posting_to_another_teams_assign_url_gets_a_404_like_a_missing_lead(
    client, alice, charlie
):
    theirs = make_lead(owner=charlie, stage=LifecycleStage.MQL)
    login(client, alice)

    hidden = client.post(f"/inbox/leads/{theirs.pk}/assign/", {"to": alice.pk})
    missing = client.post(f"/inbox/leads/{theirs.pk + 1000}/assign/", {"to": alice.pk})
    bulk = client.post("/inbox/reassign/", {"lead": [theirs.pk], "to": alice.pk, "reason": "x"})

    assert (hidden.status_code, missing.status_code, bulk.status_code) == (404, 404, 404)
    theirs.refresh_from_db()
    assert theirs.owner == charlie
