"""Settings → Contract signers (admins): which roles sign the definitions for each side."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from closedloop.core.models import Role
from closedloop.core.settings_views import require_admin
from closedloop.definitions import services
from closedloop.definitions.models import Side


@login_required
@require_http_methods(["GET", "POST"])
def signers(request):
    require_admin(request.user)
    errors = {}
    if request.method == "POST":
        side = request.POST.get("side", "")
        try:
            services.set_signers(by=request.user, side=side, roles=request.POST.getlist("roles"))
        except services.ContractInvalid as invalid:
            errors = invalid.errors
        else:
            messages.success(request, f"{Side(side).label} signers saved.")
            return redirect("settings-signers")
    current = services.signers()
    sides = [
        {
            "side": side,
            "label": label,
            "roles": [(r, Role(r).label, r in current[side]) for r in services.SIGNING_ROLES],
        }
        for side, label in Side.choices
    ]
    context = {"tab": "signers", "sides": sides, "errors": errors}
    return render(
        request, "definitions/settings_signers.html", context, status=422 if errors else 200
    )
