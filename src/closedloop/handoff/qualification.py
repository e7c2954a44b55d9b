"""Qualifying a sales-accepted lead (SAL → SQL) against the contract's SQL rule, and opening
its opportunity (SQL → Opportunity), from every door (lead page, API, CLI).

`qualify_lead` checks the rep's answers against the SQL rule in force (each criterion
confirmed or not, with the evidence for what was confirmed), records a Qualification row
(who, when, answers, rule version, note), moves the lead SAL → SQL, links its account (found
by email domain or company name, created only when none matches) and, when the form carries the
deal (name, amount, close date), opens the opportunity at the pipeline's first stage with the
lead in a contact role and moves the lead SQL → Opportunity. Each move is a recorded stage
change through `change_stage`; nothing is written when anything is refused.
`open_opportunity` does the second half later for a lead already at SQL.
(docs/decisions/0026-qualification-opens-the-opportunity.md says why both are one form.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.core.models import User
from closedloop.crm.models import (
    Account,
    ContactRole,
    Lead,
    LifecycleStage,
    Opportunity,
    OpportunityContact,
)
from closedloop.crm.services import (
    DomainTaken,
    change_stage,
    create_account,
    create_opportunity,
    update_lead,
)
from closedloop.definitions.services import active_contract
from closedloop.handoff import permissions
from closedloop.handoff.models import Qualification
from closedloop.vocabulary import PERSONAL_EMAIL_DOMAINS


@dataclass(frozen=True)
class Deal:
    """The opportunity a qualification opens: what the rep typed, checked."""

    name: str
    amount: Decimal
    close_date: date
    currency: str = ""
    role: str = ContactRole.DECISION_MAKER
    next_step: str = ""


def check_deal(raw: dict) -> Deal:
    """A Deal from form or API values (text allowed), or ValidationError naming each field:
    an amount above zero and a close date are required (the contract's Opportunity stage is
    "an opportunity with an amount and a close date")."""
    errors: dict[str, str] = {}
    amount = _amount(raw.get("amount"), errors)
    close = _day(raw.get("close_date"), errors)
    role = raw.get("role") or ContactRole.DECISION_MAKER
    if role not in ContactRole.values:
        errors["role"] = f"use one of {', '.join(ContactRole.values)}"
    name = str(raw.get("name") or "").strip()
    if len(name) > 200:
        errors["name"] = "at most 200 characters"
    if errors:
        raise ValidationError(errors)
    return Deal(
        name=name,
        amount=amount,
        close_date=close,
        currency=str(raw.get("currency") or "").strip().upper(),
        role=role,
        next_step=str(raw.get("next_step") or "").strip()[:200],
    )


def _amount(raw, errors: dict) -> Decimal:
    try:
        amount = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors["amount"] = "the deal's amount is required (a number, e.g. 25000)"
        return Decimal(0)
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e12"):
        errors["amount"] = "must be above zero and below 1,000,000,000,000"
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else Decimal(0)


def _day(raw, errors: dict) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        errors["close_date"] = "the expected close date is required (YYYY-MM-DD)"
        return timezone.localdate()


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead.pk)


def _require_stage(lead: Lead, stage: str) -> None:
    if lead.lifecycle_stage != stage:
        current = lead.get_lifecycle_stage_display()
        wanted = LifecycleStage(stage).label
        raise ValidationError({"lead": f"lead {lead.pk} is {current}, not {wanted}"})


@transaction.atomic
def qualify_lead(
    lead: Lead,
    *,
    by: User,
    answers: dict,
    note: str = "",
    deal: dict | None = None,
    at: datetime | None = None,
) -> Qualification:
    """Qualify a sales-accepted `lead` (module docstring). `answers` is {criterion:
    {"confirmed": bool, "evidence": text}} for the SQL rule's criteria; `deal` (name, amount,
    close_date, currency, role, next_step) opens the opportunity in the same step, None leaves
    the lead at SQL. ValidationError names every problem (`answers`, `answers.<criterion>`,
    `amount`, …); PermissionDenied for someone who may not work the lead."""
    at = at or timezone.now()
    lead = _locked(lead)
    permissions.check_can_work_lead(by, lead)
    _require_stage(lead, LifecycleStage.SAL)
    contract = active_contract()
    verdict = contract.contract.sql_rule.judge(answers)
    checked = check_deal(deal) if deal is not None else None
    if not verdict.qualified:
        raise ValidationError(dict(verdict.problems))
    why = f"Qualified: {', '.join(verdict.confirmed)} confirmed"
    change_stage(
        lead, to=LifecycleStage.SQL, by=by, reason=why, rule_version=contract.number, at=at
    )
    qualification = Qualification.objects.create(
        lead=lead,
        by=by,
        at=at,
        answers=dict(verdict.answers),
        confirmed=len(verdict.confirmed),
        rule_version=contract.number,
        note=note.strip(),
        account=link_account(lead, by=by),
    )
    if checked is not None:
        qualification.opportunity = _open(lead, by=by, deal=checked, at=at)
        qualification.save(update_fields=["opportunity"])
    return qualification


@transaction.atomic
def open_opportunity(
    lead: Lead, *, by: User, deal: dict, at: datetime | None = None
) -> Opportunity:
    """Open the opportunity of a lead already at SQL (qualified without one): the account is
    linked, the deal opened at the pipeline's first stage with the lead in a contact role, and
    the lead moves SQL → Opportunity."""
    at = at or timezone.now()
    lead = _locked(lead)
    permissions.check_can_work_lead(by, lead)
    _require_stage(lead, LifecycleStage.SQL)
    checked = check_deal(deal)
    opportunity = _open(lead, by=by, deal=checked, at=at)
    latest = lead.qualifications.filter(opportunity__isnull=True).first()
    if latest is not None:
        latest.opportunity = opportunity
        latest.save(update_fields=["opportunity"])
    return opportunity


def _open(lead: Lead, *, by: User, deal: Deal, at: datetime) -> Opportunity:
    account = link_account(lead, by=by)
    fields = {
        "account": account,
        "name": deal.name or f"{account.name}: new deal",
        "amount": deal.amount,
        "close_date": deal.close_date,
        "next_step": deal.next_step,
        "owner": lead.owner,
    }
    if deal.currency:
        fields["currency"] = deal.currency
    opportunity = create_opportunity(
        by=by, fields=fields, at=at, reason=f"Opened by qualifying lead #{lead.pk}"
    )
    OpportunityContact.objects.create(opportunity=opportunity, lead=lead, role=deal.role)
    change_stage(
        lead,
        to=LifecycleStage.OPPORTUNITY,
        by=by,
        reason=f"Opportunity opened: {opportunity.name}",
        at=at,
    )
    return opportunity


# --------------------------------------------------------------------------------------------
# The account: linked, found, or created once
# --------------------------------------------------------------------------------------------


def company_domain(email: str) -> str:
    """The company part of an address ("ada@acme.com" → "acme.com"); "" for a personal
    mail provider (gmail.com and the like), where the domain names no company."""
    domain = email.rpartition("@")[2].strip().lower().removeprefix("www.")
    return "" if not domain or domain in PERSONAL_EMAIL_DOMAINS else domain


def find_account(lead: Lead) -> Account | None:
    """The account this lead belongs to: its own, else the one with its email's company
    domain, else the oldest one named exactly as its company (any letter case)."""
    if lead.account_id:
        return lead.account
    domain = company_domain(lead.email)
    if domain:
        found = Account.objects.filter(domain__iexact=domain).first()
        if found is not None:
            return found
    company = lead.company.strip()
    if company:
        return Account.objects.filter(name__iexact=company).order_by("pk").first()
    return None


def link_account(lead: Lead, *, by: User) -> Account:
    """The lead's account: found (`find_account`) or created from the lead's firmographics,
    and set on the lead. Never a second account for a domain or a company name."""
    account = find_account(lead) or _new_account(lead, by=by)
    if lead.account_id != account.pk:
        update_lead(lead, by=by, changes={"account": account})
        lead.account = account
    return account


def _new_account(lead: Lead, *, by: User) -> Account:
    domain = company_domain(lead.email)
    fields = {
        "name": (lead.company.strip() or domain or lead.full_name or f"Lead {lead.pk}")[:200],
        "domain": domain,
        "industry": lead.industry,
        "employees": lead.employees,
        "country": lead.country,
        "owner": lead.owner,
    }
    try:
        return create_account(by=by, fields=fields)
    except DomainTaken:  # created by someone else since find_account looked
        return Account.objects.get(domain__iexact=domain)
