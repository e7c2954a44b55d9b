"""Settings for the pipeline (admins): the managed close reasons, and the opportunity stages,
which are part of the signed definitions contract (changed by proposing a draft both teams
sign, docs/decisions/0025-pipeline-in-the-contract.md)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from closedloop.core.settings_views import require_admin
from closedloop.crm import services
from closedloop.crm.models import CloseOutcome, CloseReason, Opportunity


@login_required
@require_http_methods(["GET", "POST"])
def close_reasons(request):
    """Why deals are won and lost: add, rename, deactivate, reorder (position numbers)."""
    require_admin(request.user)
    errors, form = {}, request.POST
    if request.method == "POST":
        try:
            saved = _save(request)
        except ValidationError as exc:
            errors = {field: problems[0] for field, problems in exc.message_dict.items()}
        else:
            messages.success(request, f"Reason “{saved.label}” saved.")
            return redirect("settings-close-reasons")
    context = {
        "tab": "close-reasons",
        "outcomes": [
            (value, label, CloseReason.objects.filter(outcome=value).order_by("position", "id"))
            for value, label in CloseOutcome.choices
        ],
        "errors": errors,
        "form": form,
    }
    status = 422 if errors else 200
    return render(request, "crm/settings_close_reasons.html", context, status=status)


def _save(request) -> CloseReason:
    form = request.POST
    pk = form.get("reason", "")
    existing = CloseReason.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    return services.save_close_reason(
        by=request.user,
        outcome=existing.outcome if existing else form.get("outcome", ""),
        label=form.get("label", ""),
        is_active=form.get("is_active") == "1",
        position=form.get("position") or None,
        recycle_days=form.get("recycle_days") or 90,
        reason=existing,
    )


@login_required
@require_GET
def pipeline(request):
    """The stages in force with their probabilities and how many deals stand at each; a
    change is proposed as a contract draft."""
    require_admin(request.user)
    rows = Opportunity.objects.order_by().values_list("stage").annotate(n=Count("id"))
    counts = dict(rows)
    stages = [(s, counts.get(s.code, 0)) for s in services.pipeline_stages()]
    return render(request, "crm/settings_pipeline.html", {"tab": "pipeline", "stages": stages})
