"""The lead page's Qualify form (SAL → SQL, and the deal it opens) and Open-the-opportunity
form (SQL → Opportunity), posted with htmx or as plain forms. Each answers with the refreshed
work panel (`lead_views`); the rules are `handoff.qualification`'s."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.views.decorators.http import require_POST

from closedloop.definitions.services import contract_in_force
from closedloop.handoff import qualification
from closedloop.handoff.lead_views import DEAL_FIELDS, _errors, _lead, _panel


def _answers(post) -> dict:
    confirmed = set(post.getlist("confirmed"))
    rule = contract_in_force().sql_rule
    return {
        name: {"confirmed": name in confirmed, "evidence": post.get(f"evidence_{name}", "")}
        for name in rule.requires
    }


def _deal(post) -> dict:
    return {f: post.get(f"deal_{f}", "") for f in DEAL_FIELDS}


@login_required
@require_POST
def qualify(request, pk: int):
    lead = _lead(request, pk)
    deal = _deal(request.POST) if request.POST.get("open_deal") == "1" else None
    try:
        qualification.qualify_lead(
            lead,
            by=request.user,
            answers=_answers(request.POST),
            note=request.POST.get("note", ""),
            deal=deal,
        )
    except ValidationError as exc:
        return _panel(request, lead, status=422, errors=_errors(exc), posted=request.POST)
    message = "Qualified: the opportunity is open." if deal else "Qualified (SQL)."
    return _panel(request, lead, message=message)


@login_required
@require_POST
def open_deal(request, pk: int):
    lead = _lead(request, pk)
    try:
        qualification.open_opportunity(lead, by=request.user, deal=_deal(request.POST))
    except ValidationError as exc:
        return _panel(request, lead, status=422, errors=_errors(exc), posted=request.POST)
    return _panel(request, lead, message="The opportunity is open.")
