"""Qualifying a sales-accepted lead against the contract's SQL rule: SAL → SQL, the account
linked once, the opportunity opened with the lead in a contact role, SQL → Opportunity."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from closedloop.crm.models import Account, Lead, LifecycleStage, Opportunity
from closedloop.definitions.services import active_contract_version
from closedloop.handoff.models import Qualification
from closedloop.handoff.qualification import open_opportunity, qualify_lead
from tests.factories import make_account, make_lead

pytestmark = pytest.mark.django_db

ANSWERS = {
    "budget": {"confirmed": True, "evidence": "€40k approved for Q3"},
    "authority": {"confirmed": True, "evidence": "Ada signs"},
    "need": {"confirmed": True, "evidence": "Spreadsheets break at 10k leads"},
    "timeline": {"confirmed": False, "evidence": ""},
}
DEAL = {"name": "Acme: platform", "amount": "25000", "close_date": "2027-03-31"}


def _sal(owner, **extra):
    extra.setdefault("email", "ada@acme.example")
    extra.setdefault("company", "Acme")
    return make_lead(owner=owner, stage=LifecycleStage.SAL, **extra)


def _moves(lead: Lead) -> list[tuple[str, str]]:
    return [(c.from_stage, c.to_stage) for c in lead.stage_changes.order_by("at", "id")]


def test_qualifying_with_a_deal_records_the_answers_and_opens_the_opportunity(alice):
    lead = _sal(alice)
    q = qualify_lead(lead, by=alice, answers=ANSWERS, note="Good call", deal=DEAL)
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.OPPORTUNITY
    assert _moves(lead) == [("sal", "sql"), ("sql", "opportunity")]
    assert (q.by, q.confirmed, q.rule_version, q.note) == (
        alice,
        3,
        active_contract_version(),
        "Good call",
    )
    assert q.answers["budget"] == {"confirmed": True, "evidence": "€40k approved for Q3"}
    deal = q.opportunity
    assert (deal.name, deal.amount, deal.close_date, deal.stage, deal.owner) == (
        "Acme: platform",
        25000,
        date(2027, 3, 31),
        "discovery",
        alice,
    )
    assert deal.account == lead.account == q.account
    assert list(deal.roles.values_list("lead", "role")) == [(lead.pk, "decision_maker")]
    assert lead.stage_changes.get(to_stage="sql").rule_version == active_contract_version()


def test_failing_the_sql_rule_names_what_is_missing_and_changes_nothing(alice):
    lead = _sal(alice)
    answers = {**ANSWERS, "authority": {"confirmed": False}}
    with pytest.raises(ValidationError) as refused:
        qualify_lead(lead, by=alice, answers=answers, deal=DEAL)
    assert "confirm 1 more of Authority or Timeline" in refused.value.message_dict["answers"][0]
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL
    assert not Qualification.objects.exists() and not Opportunity.objects.exists()


def test_a_deal_without_amount_or_close_date_is_refused_before_anything_moves(alice):
    lead = _sal(alice)
    with pytest.raises(ValidationError) as refused:
        qualify_lead(lead, by=alice, answers=ANSWERS, deal={"name": "x", "amount": ""})
    assert set(refused.value.message_dict) == {"amount", "close_date"}
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL


def test_the_account_is_found_by_domain_then_by_company_and_never_duplicated(alice):
    by_domain = make_account("Acme Corporation", domain="acme.example")
    lead = _sal(alice)
    assert qualify_lead(lead, by=alice, answers=ANSWERS).account == by_domain
    by_name = make_account("Initech", domain="initech.example")
    other = _sal(alice, email="bob@gmail.com", company="initech")
    assert qualify_lead(other, by=alice, answers=ANSWERS).account == by_name
    assert Account.objects.count() == 2


def test_a_lead_with_no_matching_account_gets_one_from_its_firmographics_once(alice):
    first = _sal(alice, email="a@globex.example", company="Globex", industry="Software")
    second = _sal(alice, email="b@globex.example", company="Globex Inc")
    a = qualify_lead(first, by=alice, answers=ANSWERS).account
    b = qualify_lead(second, by=alice, answers=ANSWERS).account
    assert a == b
    assert (a.name, a.domain, a.industry, a.owner) == (
        "Globex",
        "globex.example",
        "Software",
        alice,
    )


def test_qualifying_without_a_deal_stops_at_sql_and_the_deal_opens_later(alice):
    lead = _sal(alice)
    q = qualify_lead(lead, by=alice, answers=ANSWERS)
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SQL and q.opportunity is None
    deal = open_opportunity(lead, by=alice, deal={**DEAL, "role": "champion"})
    lead.refresh_from_db()
    q.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.OPPORTUNITY and q.opportunity == deal
    assert _moves(lead) == [("sal", "sql"), ("sql", "opportunity")]


def test_only_a_sales_accepted_lead_is_qualified(alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    with pytest.raises(ValidationError) as refused:
        qualify_lead(lead, by=alice, answers=ANSWERS)
    assert refused.value.message_dict["lead"] == [f"lead {lead.pk} is MQL, not SAL"]


def test_another_reps_lead_cannot_be_qualified_but_their_manager_may(bob, alice, max_manager):
    lead = _sal(alice)
    with pytest.raises(PermissionDenied):
        qualify_lead(lead, by=bob, answers=ANSWERS)
    q = qualify_lead(lead, by=max_manager, answers=ANSWERS, deal=DEAL)
    assert q.opportunity.owner == alice
