"""Accept, reject with a managed reason, recycle and return: every path and its permissions."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from closedloop.core import events
from closedloop.crm.models import LeadStatus, LifecycleStage, StageChange
from closedloop.engagement.models import Touchpoint
from closedloop.handoff.models import LeadSla, Rejection, RejectionReason
from closedloop.handoff.services import (
    _recycled_among,
    accept_lead,
    log_activity,
    reject_lead,
    return_due_recycled_leads,
    return_reengaged_leads,
)
from tests.factories import make_lead


@pytest.fixture
def lead(alice):
    return make_lead(owner=alice, stage=LifecycleStage.MQL)


def test_accepting_makes_the_lead_sales_accepted_and_tells_listeners(
    lead, alice, django_capture_on_commit_callbacks
):
    heard = []
    events.lead_accepted.connect(
        lambda **kw: heard.append(kw["payload"]), weak=False, dispatch_uid="test-accepted"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            accept_lead(lead, by=alice)
    finally:
        events.lead_accepted.disconnect(dispatch_uid="test-accepted")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL
    assert heard == [{"lead_id": lead.pk, "rep": "alice@example.com"}]


def test_a_rep_cannot_accept_another_reps_lead(lead, bob):
    with pytest.raises(PermissionDenied):
        accept_lead(lead, by=bob)


def test_marketing_cannot_accept_leads(lead, mia):
    with pytest.raises(PermissionDenied):
        accept_lead(lead, by=mia)


def test_the_team_manager_can_accept_for_a_rep(lead, max_manager):
    accept_lead(lead, by=max_manager)
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL


def test_rejecting_without_a_reason_is_refused(lead, alice):
    with pytest.raises(ValidationError, match="reason is required"):
        reject_lead(lead, by=alice, reason="")


def test_a_reason_outside_the_managed_list_is_refused(lead, alice):
    with pytest.raises(ValidationError, match="not a reason"):
        reject_lead(lead, by=alice, reason="dont-like-them")


def test_not_now_recycles_the_lead_with_a_reentry_date_and_frees_it(lead, alice):
    when = timezone.localdate() + timedelta(days=30)
    rejection = reject_lead(lead, by=alice, reason="not-now", note="budget in Q3", recycle_on=when)
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.RECYCLED
    assert lead.recycle_at == when and lead.owner is None and lead.status == LeadStatus.NURTURE
    assert rejection.note == "budget in Q3" and rejection.rep == alice
    change = StageChange.objects.filter(lead=lead).first()
    assert change.by == alice and "budget in Q3" in change.reason


def test_not_now_without_a_date_uses_the_reasons_default(lead, alice):
    reject_lead(lead, by=alice, reason="not-now")
    lead.refresh_from_db()
    assert lead.recycle_at == timezone.localdate() + timedelta(days=90)


def test_wrong_fit_disqualifies_the_lead_the_scorers_negative_label(lead, alice):
    reject_lead(lead, by=alice, reason="wrong-fit", note="students")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.DISQUALIFIED
    assert lead.status == LeadStatus.UNQUALIFIED


def test_bad_data_goes_back_to_marketing_ops_unowned(lead, alice):
    rejection = reject_lead(lead, by=alice, reason="bad-data", note="phone is fake")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.LEAD and lead.owner is None
    assert rejection.resolved_at is None  # stays in the marketing-ops queue


def test_a_duplicate_names_the_surviving_lead(lead, alice):
    survivor = make_lead(owner=alice, stage=LifecycleStage.SAL)
    rejection = reject_lead(lead, by=alice, reason="duplicate", duplicate_of=survivor)
    lead.refresh_from_db()
    assert rejection.duplicate_of == survivor
    assert lead.lifecycle_stage == LifecycleStage.DISQUALIFIED


def test_a_duplicate_without_the_surviving_lead_is_refused(lead, alice):
    with pytest.raises(ValidationError, match="surviving"):
        reject_lead(lead, by=alice, reason="duplicate")


def test_rejection_keeps_campaign_and_source_for_the_feedback_report(alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL, source="webinar")
    rejection = reject_lead(lead, by=alice, reason="wrong-fit")
    assert rejection.source == "webinar"


def test_a_recycled_lead_comes_back_as_a_lead_when_its_date_arrives(lead, alice):
    reject_lead(
        lead, by=alice, reason="not-now", recycle_on=timezone.localdate() + timedelta(days=3)
    )
    assert return_due_recycled_leads(today=timezone.localdate() + timedelta(days=2)) == 0
    assert return_due_recycled_leads(today=timezone.localdate() + timedelta(days=3)) == 1
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.LEAD and lead.recycle_at is None
    assert StageChange.objects.filter(lead=lead).first().reason.startswith("Re-entry date reached")


def engaged_ideal_lead(owner):
    """A VP at a 1,500-person software company in the US with three fresh webinars: the default
    contract's MQL rule holds (fit A+, engagement 60)."""
    lead = make_lead(
        owner=owner,
        stage=LifecycleStage.MQL,
        industry="Software",
        employees=1500,
        seniority="VP",
        country="US",
        email="vp@bigco.example",
    )
    for _ in range(3):
        Touchpoint.objects.create(lead=lead, type="webinar", occurred_at=timezone.now())
    return lead


def test_a_returning_lead_becomes_mql_again_only_when_the_contract_rule_holds(
    alice, django_capture_on_commit_callbacks
):
    hot, cold = engaged_ideal_lead(alice), make_lead(owner=alice, stage=LifecycleStage.MQL)
    tomorrow = timezone.localdate() + timedelta(days=1)
    for lead in (hot, cold):
        reject_lead(lead, by=alice, reason="not-now", recycle_on=tomorrow)
    with django_capture_on_commit_callbacks(execute=True):
        assert return_due_recycled_leads(today=tomorrow) == 2
    hot.refresh_from_db()
    cold.refresh_from_db()
    assert cold.lifecycle_stage == LifecycleStage.LEAD
    assert hot.lifecycle_stage == LifecycleStage.MQL
    assert StageChange.objects.filter(lead=hot).first().reason.startswith("MQL rule of contract")


def test_a_recycled_lead_that_reengages_comes_back_as_a_lead(lead, alice):
    reject_lead(lead, by=alice, reason="not-now")
    events.touchpoints_recorded.send(sender=None, payload={"lead_ids": [lead.pk]})
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.LEAD
    assert (
        StageChange.objects.filter(lead=lead).first().reason.startswith("Re-engaged while recycled")
    )


def test_only_the_recycled_among_many_touched_leads_come_back(lead, alice):
    others = [make_lead(owner=alice, stage=LifecycleStage.MQL) for _ in range(4)]
    reject_lead(lead, by=alice, reason="not-now")
    ids = [o.pk for o in others[:2]] + [None, lead.pk] + [o.pk for o in others[2:]]

    assert _recycled_among(ids, chunk=2) == [lead.pk]  # found across chunks, None ignored
    assert return_reengaged_leads(ids) == 1
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.LEAD
    assert return_reengaged_leads([o.pk for o in others]) == 0


def test_a_deactivated_reason_can_no_longer_be_chosen(lead, alice):
    RejectionReason.objects.filter(code="wrong-fit").update(is_active=False)
    with pytest.raises(ValidationError):
        reject_lead(lead, by=alice, reason="wrong-fit")


def test_logging_a_call_is_the_first_touch(lead, alice):
    from closedloop.handoff.sla import start_clock

    start_clock(lead, at=timezone.now())
    log_activity(lead, by=alice, kind="call", outcome="no_answer")
    lead.refresh_from_db()
    timer = LeadSla.objects.get(lead=lead)
    assert lead.first_touched_at is not None and lead.status == LeadStatus.ATTEMPTING
    assert timer.first_touched_at == lead.first_touched_at and timer.attempts_made == 1


def test_a_rep_cannot_log_work_on_another_reps_lead(lead, bob):
    with pytest.raises(PermissionDenied):
        log_activity(lead, by=bob, kind="call")


def test_rejecting_stops_the_clock(lead, alice):
    from closedloop.handoff.sla import start_clock

    start_clock(lead, at=timezone.now())
    reject_lead(lead, by=alice, reason="wrong-fit")
    assert LeadSla.objects.get(lead=lead).closed_at is not None
    assert Rejection.objects.count() == 1
