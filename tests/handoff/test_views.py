"""The inbox, its htmx actions, the queue, disputes, the SLA page and the feedback report."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closedloop.crm.models import Activity, Lead, LifecycleStage
from closedloop.handoff.models import Dispute, Rejection
from closedloop.handoff.sla import start_clock
from tests.factories import make_lead

# session + user, notifications, tasks due, the ranking read, its calendars and contract, the
# page's leads.
INBOX_MAX_QUERIES = 10


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
    assert 'data-sla="on_track"' in page
    card = client.get(f"/inbox/leads/{lead.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Industry we win in" in card and 'data-timer="first-touch"' in card


def test_a_rep_cannot_open_the_card_of_another_teams_lead(client, charlie, lead):
    assert login(client, charlie).get(f"/inbox/leads/{lead.pk}/").status_code == 404


def test_the_inbox_orders_leads_by_score_times_urgency(client, alice):
    calm = make_lead(owner=alice, stage=LifecycleStage.MQL, score=60)
    start_clock(calm, at=timezone.now())
    late = make_lead(owner=alice, stage=LifecycleStage.MQL, score=30)
    start_clock(late, at=timezone.now() - timedelta(days=5))  # breached: urgency 3 → 90
    page = login(client, alice).get("/inbox/").content.decode()
    assert page.index(f'id="line-{late.pk}"') < page.index(f'id="line-{calm.pk}"')


def test_the_inbox_ranks_all_open_work_so_an_old_urgent_lead_tops_310_newer_ones(client, alice):
    old = timezone.now() - timedelta(days=60)
    urgent = make_lead(owner=alice, stage=LifecycleStage.MQL, score=90, created_at=old)
    start_clock(urgent, at=timezone.now() - timedelta(days=5))  # breached: 90 × 3
    Lead.objects.bulk_create(
        Lead(
            first_name="Newer",
            last_name=str(i),
            email=f"newer{i}@example.com",
            owner=alice,
            lifecycle_stage=LifecycleStage.MQL,
            score=50 + i % 40,
            created_at=timezone.now(),
        )
        for i in range(310)
    )
    response = login(client, alice).get("/inbox/")
    page = response.content.decode()
    assert response.context["page"].count == 311 and "311 open leads" in page
    priorities = [line["priority"] for line in response.context["lines"]]
    assert response.context["lines"][0]["lead"] == urgent
    assert priorities == sorted(priorities, reverse=True) and len(priorities) == 50
    last = client.get("/inbox/", {"page": 7}).context
    assert len(last["lines"]) == 11 and last["lines"][-1]["priority"] <= priorities[-1]


def test_the_inbox_filters_by_stage_sla_state_score_band_source_and_search(client, alice):
    late = make_lead(owner=alice, stage=LifecycleStage.MQL, score=80, source="webinar")
    start_clock(late, at=timezone.now() - timedelta(days=5))
    calm = make_lead(owner=alice, stage=LifecycleStage.SAL, score=30, last_name="Zephyr")
    client = login(client, alice)

    def shown(**params):
        return {line["lead"].pk for line in client.get("/inbox/", params).context["lines"]}

    assert shown(sla="breached") == {late.pk}
    assert shown(stage="sal") == {calm.pk}
    assert shown(score="75-100") == {late.pk}
    assert shown(source="webinar") == {late.pk}
    assert shown(q="zephyr") == {calm.pk}
    response = client.get("/inbox/", {"sla": "late-ish"})
    assert "Ignored sla" in response.content.decode() and len(response.context["lines"]) == 2


def test_the_inbox_makes_the_same_few_queries_for_5_or_60_leads(
    client, alice, django_assert_max_num_queries
):
    for _ in range(5):
        start_clock(make_lead(owner=alice, stage=LifecycleStage.MQL), at=timezone.now())
    client = login(client, alice)
    with CaptureQueriesContext(connection) as few:
        client.get("/inbox/")
    for _ in range(55):
        start_clock(make_lead(owner=alice, stage=LifecycleStage.MQL), at=timezone.now())
    with django_assert_max_num_queries(INBOX_MAX_QUERIES):
        response = client.get("/inbox/")
    assert len(response.context["lines"]) == 50
    with CaptureQueriesContext(connection) as many:
        client.get("/inbox/")
    assert len(many) == len(few)


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


def test_choosing_not_now_shows_the_reentry_date_filled_with_the_reasons_default(
    client, alice, lead
):
    blank = login(client, alice).get(f"/inbox/leads/{lead.pk}/reject/").content.decode()
    assert 'name="recycle_on"' not in blank
    form = client.get(f"/inbox/leads/{lead.pk}/reject/", {"reason": "not-now"}).content.decode()
    default = timezone.localdate() + timedelta(days=90)
    assert f'name="recycle_on" value="{default.isoformat()}"' in form
    assert "brings the lead back in 90 days" in form


def test_the_rep_picks_the_reentry_date_and_is_told_it(client, alice, lead):
    when = timezone.localdate() + timedelta(days=45)
    response = login(client, alice).post(
        f"/inbox/leads/{lead.pk}/reject/", {"reason": "not-now", "recycle_on": when.isoformat()}
    )
    assert f"back as a lead on {when:%d %b %Y}" in response.content.decode()
    lead.refresh_from_db()
    assert lead.recycle_at == when and lead.lifecycle_stage == LifecycleStage.RECYCLED


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
    assert "Unassigned queue (1)" in page and str(waiting) not in page
    page = client.get("/inbox/", {"tab": "queue"}).content.decode()
    assert str(waiting) in page
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
    assert 'id="median-first-touch"' in page and "Alice" in page and "alice@example.com" not in page
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
