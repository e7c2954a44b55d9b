"""SLA clocks, warnings and breaches; escalations reach a real SMTP server and a real HTTP
server (Slack-compatible JSON) through the webhooks' delivery path: checked, retried, logged."""

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.utils import timezone

from closedloop.crm.models import Activity, ActivityKind, LifecycleStage
from closedloop.handoff import engine
from closedloop.handoff.models import (
    Escalation,
    LeadSla,
    Notification,
    SlaBreach,
    SlaKind,
    TeamCalendar,
)
from closedloop.handoff.sla import check_slas, start_clock, timers_for
from closedloop.webhooks.models import AllowedHost, Delivery
from closedloop.webhooks.models import DeliveryStatus as Sent
from closedloop.webhooks.services import retry_due_deliveries
from tests.factories import make_lead

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.fixture
def webhook():
    received, failures = [], [1]  # the first request fails: the task must retry

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if failures and failures.pop():
                self.send_response(500)
            else:
                received.append(json.loads(body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def lead(alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    start_clock(lead, at=MONDAY_10)
    return lead


def test_the_first_touch_deadline_is_in_working_minutes(lead):
    # 240 working minutes from Monday 10:00 with Mon–Fri 9–17 UTC is Monday 14:00.
    assert LeadSla.objects.get(lead=lead).first_touch_due == MONDAY_10 + timedelta(hours=4)


def test_a_timer_turns_to_warning_before_the_deadline_and_breached_after(lead):
    on_track, _ = timers_for(lead, now=MONDAY_10 + timedelta(hours=1))
    warning, _ = timers_for(lead, now=MONDAY_10 + timedelta(hours=3, minutes=30))
    breached, _ = timers_for(lead, now=MONDAY_10 + timedelta(hours=5))
    assert [on_track.state, warning.state, breached.state] == [
        engine.TimerState.ON_TRACK,
        engine.TimerState.WARNING,
        engine.TimerState.BREACHED,
    ]


def test_the_check_warns_the_owner_once(lead, alice):
    check_slas(now=MONDAY_10 + timedelta(hours=3, minutes=30))
    check_slas(now=MONDAY_10 + timedelta(hours=3, minutes=40))
    assert Notification.objects.filter(user=alice, lead=lead).count() == 1


def test_a_breach_is_recorded_once_however_often_the_check_runs(lead):
    later = MONDAY_10 + timedelta(hours=5)
    assert check_slas(now=later)["breached"] == 1
    assert check_slas(now=later)["breached"] == 0
    assert SlaBreach.objects.get(lead=lead).kind == SlaKind.FIRST_TOUCH


def test_too_few_attempts_within_the_days_is_a_breach(lead, alice):
    Activity.objects.create(lead=lead, rep=alice, kind=ActivityKind.CALL, at=MONDAY_10)
    LeadSla.objects.filter(lead=lead).update(first_touched_at=MONDAY_10)
    check_slas(now=MONDAY_10 + timedelta(days=8))
    breach = SlaBreach.objects.get(lead=lead)
    assert breach.kind == SlaKind.ATTEMPTS
    assert LeadSla.objects.get(lead=lead).attempts_made == 1


@pytest.fixture
def local_allowed(ada):
    """The test receivers listen on 127.0.0.1, which only an admin's allowance makes reachable."""
    return AllowedHost.objects.create(host="127.0.0.1", created_by=ada)


def breach_with_webhook(team, url, capture) -> Delivery:
    TeamCalendar.objects.create(team=team, escalation_webhook_url=url)
    with capture(execute=True):
        check_slas(now=MONDAY_10 + timedelta(hours=5))
    return Escalation.objects.select_related("delivery").get(channel="webhook").delivery


def retry_when_due(delivery: Delivery) -> Delivery:
    delivery.refresh_from_db()
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        retry_due_deliveries()
    delivery.refresh_from_db()
    return delivery


def test_breach_escalates_to_the_manager_by_email_and_to_the_team_webhook(
    lead, east, max_manager, smtp, webhook, local_allowed, django_capture_on_commit_callbacks
):
    url, received = webhook
    delivery = breach_with_webhook(east, url, django_capture_on_commit_callbacks)

    [(recipients, message)] = smtp.messages
    assert recipients == ["max@example.com"]
    assert "SLA breach: First touch" in message and str(lead) in message
    assert delivery.status == Sent.RETRYING and "500" in delivery.error  # the first try failed
    delivery = retry_when_due(delivery)
    [payload] = received
    assert set(payload) == {"text"} and f"#{lead.pk}" in payload["text"]
    assert delivery.status == Sent.DELIVERED and delivery.attempts == 2
    assert (delivery.event, delivery.url, delivery.response_code) == ("sla.escalation", url, 200)


def test_an_escalation_to_a_private_address_is_refused_unless_an_admin_allows_it(
    lead, east, max_manager, webhook, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    url, received = webhook
    delivery = breach_with_webhook(east, url, django_capture_on_commit_callbacks)
    assert delivery.status == Sent.FAILED and delivery.error.startswith("refused:")
    assert delivery.attempts == 1 and received == []  # a refused address is never retried


def test_a_failing_escalation_webhook_is_retried_with_growing_waits(
    lead, east, max_manager, local_allowed, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens: every attempt fails
    delivery = breach_with_webhook(east, url, django_capture_on_commit_callbacks)
    waits = [delivery.next_attempt_at - delivery.last_attempt_at]
    for _ in range(2):
        delivery = retry_when_due(delivery)
        waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert delivery.status == Sent.RETRYING and delivery.attempts == 3
    assert "ConnectionRefusedError" in delivery.error and delivery.next_attempt_at > timezone.now()


def test_a_touch_in_time_is_met(lead, alice):
    from closedloop.handoff.services import log_activity

    log_activity(lead, by=alice, kind="email", at=MONDAY_10 + timedelta(hours=1))
    first, _ = timers_for(lead, now=MONDAY_10 + timedelta(hours=6))
    assert first.state == engine.TimerState.MET
    assert check_slas(now=MONDAY_10 + timedelta(hours=6))["breached"] == 0
