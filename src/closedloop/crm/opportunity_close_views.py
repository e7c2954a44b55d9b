"""Closing a deal (won or lost, a reason from the managed list and a note) and reopening a
closed one (admins, with a reason), from the deal's page, the board's dialog or the card's
"Close…" link. Both go through `crm.services`; a deal the user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from closedloop.crm.models import Opportunity
from closedloop.crm.opportunity_views import (
    deal_or_404,
    field_errors,
    next_url,
    posted_version,
    refused,
)
from closedloop.crm.permissions import check_can_work_opportunity
from closedloop.crm.services import (
    StaleVersion,
    close_opportunity,
    close_reasons,
    reopen_opportunity,
)
from closedloop.pipeline import LOST, WON

OUTCOMES = (WON, LOST)


@login_required
def opportunity_close(request, pk: int):
    """The close form (GET) and closing (POST): won or lost, a reason and a note."""
    deal = deal_or_404(request, pk)
    check_can_work_opportunity(request.user, deal)
    outcome = request.POST.get("outcome") or request.GET.get("outcome") or ""
    form = {
        "outcome": outcome if outcome in OUTCOMES else "",
        "reason": request.POST.get("reason") or request.POST.get(f"{outcome}_reason", ""),
        "note": request.POST.get("note", ""),
    }
    if request.method == "POST":
        errors = _close(request, deal, form)
        if not errors:
            label = "won" if deal.stage == WON else "lost"
            messages.success(request, f"“{deal.name}” closed as {label}.")
            return redirect(next_url(request, reverse("opportunity-detail", args=[deal.pk])))
        return _close_page(request, deal, form, errors, status=422)
    return _close_page(request, deal, form, {})


def _close(request, deal: Opportunity, form: dict) -> dict:
    errors: dict[str, str] = {}
    if not form["outcome"]:
        errors["outcome"] = "choose won or lost"
    version = posted_version(request, errors)
    if errors:
        return errors
    try:
        close_opportunity(
            deal,
            by=request.user,
            won=form["outcome"] == WON,
            reason=form["reason"],
            note=form["note"],
            expected_version=version,
        )
    except StaleVersion:
        return {"version": "Someone changed this deal first: reload the page and try again."}
    except ValidationError as exc:
        return field_errors(exc)
    return {}


def _close_page(request, deal: Opportunity, form: dict, errors: dict, *, status: int = 200):
    template = "crm/_close_form.html" if request.htmx else "crm/opportunity_close.html"
    outcomes = [form["outcome"]] if form["outcome"] else list(OUTCOMES)
    context = {
        "deal": deal,
        "form": form,
        "errors": errors,
        # One list of reasons for the outcome chosen; both (each its own field) when the
        # form opens without one (the card's "Close…" link, no JavaScript to switch them).
        "reason_lists": [(outcome, close_reasons(outcome)) for outcome in outcomes],
        "next": next_url(request, ""),
    }
    return render(request, template, context, status=status)


@login_required
@require_POST
def opportunity_reopen(request, pk: int):
    """An admin reopens a closed deal, with a reason the history and the audit log keep."""
    deal = deal_or_404(request, pk)
    errors: dict[str, str] = {}
    version = posted_version(request, errors)
    if not errors:
        try:
            reopen_opportunity(
                deal,
                by=request.user,
                reason=request.POST.get("reason", ""),
                expected_version=version,
            )
        except StaleVersion:
            errors = {"version": "Someone changed this deal first: it shows as it is now."}
        except ValidationError as exc:
            errors = field_errors(exc)
    if errors:
        status = 409 if "version" in errors and version is not None else 422
        return refused(request, deal, status=status, errors=errors)
    messages.success(request, f"“{deal.name}” is open again.")
    return redirect("opportunity-detail", pk=deal.pk)
