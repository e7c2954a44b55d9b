"""The scoring page: which scorer is in use, its quality, calibration by band, retraining."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from closedloop.core.models import Role
from closedloop.scoring.explain import quality_in_words
from closedloop.scoring.services import calibration_table, scoring_status

RETRAIN_ROLES = (Role.ADMIN, Role.MARKETING)


def can_retrain(user) -> bool:
    return user.role in RETRAIN_ROLES


def calibration_chart(table: list[dict]) -> dict:
    """Chart.js data: predicted and actual conversion per band, side by side, in percent."""

    def percent(value):
        return None if value is None else round(100 * value, 1)

    return {
        "labels": [row["band"] for row in table],
        "datasets": [
            {"label": "Predicted %", "data": [percent(r["predicted"]) for r in table]},
            {"label": "Actual conversion %", "data": [percent(r["actual"]) for r in table]},
        ],
    }


@login_required
@require_GET
def scoring_page(request):
    table = calibration_table()
    status = scoring_status()
    words = None
    if status["model"]:
        model = status["model"]
        model["trained_at"] = datetime.fromisoformat(model["trained_at"])
        words = quality_in_words(model["metrics"], rows=model["rows"], positives=model["positives"])
    return render(
        request,
        "scoring/scoring.html",
        {
            "status": status,
            "quality": words,
            "table": table,
            "chart": calibration_chart(table),
            "can_retrain": can_retrain(request.user),
        },
    )


@login_required
@require_POST
def retrain(request):
    if not can_retrain(request.user):
        raise PermissionDenied("only admins and marketing may retrain the model")
    from closedloop.scoring.tasks import retrain_model

    by = f"{request.user.display_name} (page)"
    transaction.on_commit(lambda: retrain_model.enqueue(False, by))
    messages.success(
        request, "Retraining started in the background; every lead is rescored when it finishes."
    )
    return redirect("scoring")
