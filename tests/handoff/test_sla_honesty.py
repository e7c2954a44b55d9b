"""A lead rejected with no contact is never "met": the clocks say so and the reports count
it apart, so rejecting cannot game the SLA."""

from datetime import timedelta

import pytest
from django.utils import timezone

from closedloop.crm.models import LifecycleStage
from closedloop.handoff import engine, reports
from closedloop.handoff.models import Rejection
from closedloop.handoff.services import log_activity, reject_lead
from closedloop.handoff.sla import start_clock, timers_for
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def mql(owner, *, hours_ago: float = 1):
    lead = make_lead(owner=owner, stage=LifecycleStage.MQL)
    start_clock(lead, at=timezone.now() - timedelta(hours=hours_ago))
    return lead


def test_a_lead_rejected_without_any_attempt_is_not_attempts_met(alice):
    lead = mql(alice)
    reject_lead(lead, by=alice, reason="wrong-fit")
    first, attempts = timers_for(lead)
    assert first.state == attempts.state == engine.TimerState.STOPPED
    assert Rejection.objects.get(lead=lead).contacted is False


def test_a_lead_rejected_after_a_call_keeps_its_met_clocks(alice):
    lead = mql(alice)
    log_activity(lead, by=alice, kind="call")
    reject_lead(lead, by=alice, reason="wrong-fit")
    first, attempts = timers_for(lead)
    assert first.state == attempts.state == engine.TimerState.MET
    assert Rejection.objects.get(lead=lead).contacted is True


def test_the_sla_report_counts_rejections_without_contact_apart_and_as_not_met(alice):
    worked, dropped, recycled = mql(alice), mql(alice), mql(alice)
    log_activity(worked, by=alice, kind="call")
    reject_lead(dropped, by=alice, reason="wrong-fit")  # keeps its owner
    reject_lead(recycled, by=alice, reason="not-now")  # releases its owner
    report = reports.sla_report(weeks=1)
    assert report["rejected_without_contact"] == 2
    (rep,) = report["by_rep"]
    assert rep["name"] == "Alice"  # people by name, not e-mail
    assert (rep["met"], rep["decided"], rep["rejected_without_contact"]) == (1, 3, 2)
    assert report["by_team"][0]["rejected_without_contact"] == 2
    assert sum(week["rejected_without_contact"] for week in report["weeks"]) == 2


def test_the_sla_page_shows_rejected_without_contact(client, alice, max_manager):
    reject_lead(mql(alice), by=alice, reason="wrong-fit")
    client.force_login(max_manager)
    page = client.get("/handoff/sla/").content.decode()
    assert 'id="rejected-without-contact">1<' in page and "Rejected without contact" in page
