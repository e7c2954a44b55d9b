"""Settings → Rejection reasons (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from closedloop.core.settings_views import require_admin
from closedloop.handoff.models import RejectionPath, RejectionReason
from closedloop.handoff.reasons import save_rejection_reason


@login_required
@require_http_methods(["GET", "POST"])
def reasons(request):
    require_admin(request.user)
    errors, form = {}, request.POST
    if request.method == "POST":
        pk = form.get("reason", "")
        existing = RejectionReason.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
        try:
            saved = save_rejection_reason(
                by=request.user,
                label=form.get("label", ""),
                path=form.get("path", ""),
                recycle_days=form.get("recycle_days", "90"),
                is_active=form.get("is_active") == "1",
                reason=existing,
            )
        except ValidationError as exc:
            errors = {field: problems[0] for field, problems in exc.message_dict.items()}
        else:
            messages.success(request, f"Reason “{saved.label}” saved.")
            return redirect("settings-reasons")
    context = {
        "tab": "reasons",
        "reasons": RejectionReason.objects.all(),
        "paths": RejectionPath.choices,
        "errors": errors,
        "form": form,
    }
    return render(request, "handoff/settings_reasons.html", context, status=422 if errors else 200)
