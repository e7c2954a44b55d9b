"""`closedloop sla check`, `closedloop route`, `closedloop digest send` and the digest itself."""

import json
from datetime import timedelta

from django.core import mail
from django.utils import timezone
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.crm.models import LifecycleStage
from closedloop.handoff.models import RoutingRule, SlaBreach
from closedloop.handoff.reports import send_digest
from closedloop.handoff.services import accept_lead, reject_lead
from closedloop.handoff.sla import start_clock
from tests.factories import make_lead

runner = CliRunner()


def test_sla_check_records_a_breach_and_prints_counts(alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    start_clock(lead, at=timezone.now() - timedelta(days=10))
    result = runner.invoke(app, ["sla", "check"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output.strip().splitlines()[-1])
    assert counts["breached"] == 2  # first touch and attempts
    assert SlaBreach.objects.filter(lead=lead).count() == 2


def test_route_assigns_the_waiting_mqls(alice, east):
    RoutingRule.objects.create(name="East", team=east)
    make_lead(stage=LifecycleStage.MQL)
    result = runner.invoke(app, ["route"])
    assert result.exit_code == 0 and "Assigned 1 leads" in result.output


def test_the_digest_tells_marketing_what_sales_said(alice, mia):
    kept, dropped = (make_lead(owner=alice, stage=LifecycleStage.MQL) for _ in range(2))
    accept_lead(kept, by=alice)
    reject_lead(dropped, by=alice, reason="wrong-fit", note="Agency, not a buyer")
    assert send_digest(days=7) == 1
    [message] = mail.outbox
    assert message.to == ["mia@example.com"]
    assert "1 accepted, 1 rejected" in message.subject
    assert "Agency, not a buyer" in message.body and "Wrong fit" in message.body


def test_no_feedback_means_no_digest(mia):
    assert send_digest(days=7) == 0 and mail.outbox == []


def test_digest_send_command(alice, mia):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    reject_lead(lead, by=alice, reason="bad-data")
    result = runner.invoke(app, ["digest", "send", "--days", "7"])
    assert result.exit_code == 0 and "Sent the digest to 1 marketing users." in result.output
