"""Opportunities move through the contract's pipeline, close only with a managed reason and a
note, keep their stage history, and move their contacts along the lifecycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Sum
from django.utils import timezone

from closedloop.core import events
from closedloop.core.models import AuditEntry
from closedloop.crm import services
from closedloop.crm.models import (
    CloseReason,
    LeadStatus,
    LifecycleStage,
    Opportunity,
    OpportunityContact,
    OpportunityStageChange,
)
from closedloop.definitions.services import active_contract
from tests.factories import make_account, make_lead

pytestmark = pytest.mark.django_db


def _pipeline(*stages: tuple[str, str, int]) -> None:
    """Give the contract in force these open stages (as a signed change would)."""
    contract = active_contract()
    body = contract.body
    open_stages = [{"code": c, "label": label, "probability": p} for c, label, p in stages]
    body["pipeline"] = {"stages": [*open_stages, *body["pipeline"]["stages"][-2:]]}
    type(contract).objects.filter(pk=contract.pk).update(body=body)


def _deal(owner, **extra):
    return services.create_opportunity(
        by=owner, fields={"account": make_account(), "name": "Deal", "amount": 1000, **extra}
    )


def _with_contact(deal, stage):
    lead = make_lead(owner=deal.owner, stage=stage)
    OpportunityContact.objects.create(opportunity=deal, lead=lead)
    return lead


def test_the_pipeline_in_force_is_the_contracts(alice):
    _pipeline(("intro", "Intro call", 5), ("demo", "Demo", 40))
    assert [s.code for s in services.pipeline_stages()] == ["intro", "demo", "won", "lost"]
    assert services.stage_probability("demo") == 40
    assert _deal(alice).stage == "intro"


def test_a_new_deal_starts_at_the_first_stage_in_the_default_currency_with_its_entry(alice):
    deal = _deal(alice)
    assert (deal.stage, deal.currency, deal.owner) == ("discovery", "USD", alice)
    entry = deal.stage_changes.get()
    assert (entry.from_stage, entry.to_stage, entry.by) == ("", "discovery", alice)
    assert deal.stage_entered_at == entry.at


def test_a_stage_the_pipeline_does_not_have_is_refused(alice):
    with pytest.raises(ValidationError) as refused:
        _deal(alice, stage="limbo")
    assert "not a pipeline stage" in refused.value.message_dict["stage"][0]


def test_a_currency_that_is_not_iso_4217_is_refused(alice):
    with pytest.raises(ValidationError) as refused:
        _deal(alice, currency="XXY")
    assert "ISO 4217" in refused.value.message_dict["currency"][0]


def test_a_move_records_who_when_from_and_to_and_restarts_days_in_stage(alice):
    deal = _deal(alice)
    at = timezone.now() + timedelta(days=3)
    services.move_opportunity(deal, by=alice, to="negotiation", at=at)
    deal.refresh_from_db()
    move = deal.stage_changes.first()
    assert (move.from_stage, move.to_stage, move.by, move.at) == (
        "discovery",
        "negotiation",
        alice,
        at,
    )
    assert deal.stage_entered_at == at


def test_a_deal_is_not_moved_onto_a_closing_stage_nor_off_one(alice):
    deal = _deal(alice)
    with pytest.raises(ValidationError, match="needs a reason and a note"):
        services.move_opportunity(deal, by=alice, to="won")
    services.close_opportunity(deal, by=alice, won=True, reason="value", note="Signed")
    with pytest.raises(ValidationError, match="reopen it"):
        services.move_opportunity(deal, by=alice, to="proposal")


@pytest.mark.parametrize(
    ("won", "reason", "note", "field"),
    [
        (True, "", "Signed", "won_reason"),
        (False, "", "Went quiet", "lost_reason"),
        (False, "price", "  ", "close_note"),
        (False, "value", "A won reason for a loss", "lost_reason"),
    ],
)
def test_closing_needs_a_managed_reason_for_its_outcome_and_a_note(alice, won, reason, note, field):
    deal = _deal(alice)
    with pytest.raises(ValidationError) as refused:
        services.close_opportunity(deal, by=alice, won=won, reason=reason, note=note)
    assert set(refused.value.message_dict) == {field}
    deal.refresh_from_db()
    assert deal.stage == "discovery"


def test_a_deactivated_reason_cannot_close_a_deal_but_deals_keep_it(alice):
    old = _deal(alice)
    services.close_opportunity(old, by=alice, won=False, reason="timing", note="Next year")
    CloseReason.objects.filter(outcome="lost", code="timing").update(is_active=False)
    with pytest.raises(ValidationError):
        services.close_opportunity(_deal(alice), by=alice, won=False, reason="timing", note="x")
    old.refresh_from_db()
    assert old.lost_reason == "timing"
    services.update_opportunity(old, by=alice, changes={"next_step": "Call in spring"})


def test_winning_keeps_reason_and_note_and_announces_once(heard, alice):
    deal = _deal(alice)
    at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    won, lost = heard(
        (events.opportunity_won, events.opportunity_lost),
        lambda: services.close_opportunity(
            deal, by=alice, won=True, reason="relationship", note="Champion pushed it", at=at
        ),
    )
    assert lost == []
    assert [(p["opportunity_id"], p["reason"], p["note"], p["currency"]) for p in won] == [
        (deal.pk, "relationship", "Champion pushed it", "USD")
    ]
    deal.refresh_from_db()
    assert (deal.stage, deal.won_reason, deal.closed_at) == ("won", "relationship", at)
    assert deal.stage_changes.first().reason == "Closed won: Relationship and trust"


def test_losing_announces_opportunity_lost_once(heard, alice):
    deal = _deal(alice)
    won, lost = heard(
        (events.opportunity_won, events.opportunity_lost),
        lambda: services.close_opportunity(
            deal, by=alice, won=False, reason="competitor", note="Went with Initech"
        ),
    )
    assert won == []
    assert [(p["opportunity_id"], p["reason"]) for p in lost] == [(deal.pk, "competitor")]


def test_winning_moves_contacts_to_customer_one_recorded_step_at_a_time(alice):
    deal = _deal(alice)
    at_sql = _with_contact(deal, LifecycleStage.SQL)
    at_opp = _with_contact(deal, LifecycleStage.OPPORTUNITY)
    at_mql = _with_contact(deal, LifecycleStage.MQL)
    services.close_opportunity(deal, by=alice, won=True, reason="value", note="Signed")
    for lead in (at_sql, at_opp, at_mql):
        lead.refresh_from_db()
    assert (at_sql.lifecycle_stage, at_opp.lifecycle_stage) == ("customer", "customer")
    assert at_mql.lifecycle_stage == "mql"  # not on the path to Customer: left alone
    moves = [(c.from_stage, c.to_stage) for c in at_sql.stage_changes.order_by("at", "id")]
    assert moves == [("sql", "opportunity"), ("opportunity", "customer")]


def test_losing_recycles_contacts_without_another_open_deal(alice):
    deal, other = _deal(alice), _deal(alice)
    alone = _with_contact(deal, LifecycleStage.OPPORTUNITY)
    busy = _with_contact(deal, LifecycleStage.OPPORTUNITY)
    OpportunityContact.objects.create(opportunity=other, lead=busy)
    services.close_opportunity(deal, by=alice, won=False, reason="timing", note="Next year")
    alone.refresh_from_db()
    busy.refresh_from_db()
    assert alone.lifecycle_stage == "recycled" and alone.status == LeadStatus.NURTURE
    assert alone.recycle_at == timezone.localdate() + timedelta(days=90)
    assert busy.lifecycle_stage == "opportunity"


def test_only_an_admin_reopens_a_closed_deal_with_a_reason_that_is_audited(alice, ada):
    deal = _deal(alice)
    services.move_opportunity(deal, by=alice, to="negotiation")
    services.close_opportunity(deal, by=alice, won=False, reason="price", note="Too dear")
    with pytest.raises(PermissionDenied):
        services.reopen_opportunity(deal, by=alice, reason="They came back")
    with pytest.raises(ValidationError):
        services.reopen_opportunity(deal, by=ada, reason=" ")
    services.reopen_opportunity(deal, by=ada, reason="They came back")
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.closed_at) == ("negotiation", "", None)
    assert deal.stage_changes.first().reason == "Reopened: They came back"
    audit = AuditEntry.objects.filter(object_id=str(deal.pk), changes__has_key="reopened")
    assert audit.exists()


def test_every_move_is_in_the_history_in_order(alice, ada):
    deal = _deal(alice)
    services.move_opportunity(deal, by=alice, to="proposal")
    services.close_opportunity(deal, by=alice, won=True, reason="value", note="Signed")
    history = OpportunityStageChange.objects.filter(opportunity=deal).order_by("at", "id")
    assert [(h.from_stage, h.to_stage) for h in history] == [
        ("", "discovery"),
        ("discovery", "proposal"),
        ("proposal", "won"),
    ]


def test_the_weighted_amount_reads_the_stage_probability(alice):
    _deal(alice, amount=1000)
    services.move_opportunity(_deal(alice, amount=2000), by=alice, to="proposal")
    weighted = Opportunity.objects.aggregate(
        w=Sum(F("amount") * services.probability_expression() / 100)
    )["w"]
    assert weighted == 1000 * 10 / 100 + 2000 * 50 / 100
    probabilities = services.with_probability(Opportunity.objects.order_by("amount"))
    assert [o.probability for o in probabilities] == [10, 50]
