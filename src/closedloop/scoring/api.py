"""Scoring's JSON API under /api/v1/scoring: the scorer in use, calibration, retraining, and
one lead's score with its reasons."""

from __future__ import annotations

from django.db import transaction
from ninja import Router, Schema, Status

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, ApiError, not_found
from closedloop.core.permissions import visible
from closedloop.crm.models import Lead
from closedloop.scoring.services import calibration_table, lead_score, scoring_status
from closedloop.scoring.views import can_retrain

router = Router(auth=token_auth, tags=["scoring"])


class ModelOut(Schema):
    id: int
    algorithm: str
    trained_at: str
    rows: int
    positives: int
    metrics: dict
    trained_by: str


class StatusOut(Schema):
    scorer: str
    scorer_label: str
    model: ModelOut | None
    history: dict
    enough_history: bool
    last_rescore: dict | None


class BandOut(Schema):
    band: str
    leads: int
    labelled: int
    predicted: float | None
    actual: float | None


class ReasonOut(Schema):
    text: str
    effect: float


class LeadScoreOut(Schema):
    lead_id: int
    score: int
    fit_grade: str
    engagement_score: float
    conversion_probability: float | None
    reasons: list[ReasonOut]
    scored_at: str | None


class QueuedOut(Schema):
    queued: bool
    detail: str


@router.get("/scoring/status", response={200: StatusOut, **ERRORS})
def status(request):
    """Which scorer is in use (rules or model), the model's metrics and the last rescore."""
    return scoring_status()


@router.get("/scoring/calibration", response={200: list[BandOut], **ERRORS})
def calibration(request):
    """Predicted vs actual conversion per score band, over leads old enough to judge."""
    return calibration_table()


@router.post("/scoring/retrain", response={202: QueuedOut, **ERRORS})
def retrain(request):
    """Retrain the model in the background, then rescore every lead (admin and marketing)."""
    if not can_retrain(request.auth):
        raise ApiError(403, "role", "only admins and marketing may retrain the model")
    from closedloop.scoring.tasks import retrain_model

    by = f"{request.auth.email} (API)"
    transaction.on_commit(lambda: retrain_model.enqueue(False, by))
    return Status(
        202, {"queued": True, "detail": "retraining started; leads are rescored after it"}
    )


@router.get("/scoring/leads/{lead_id}", response={200: LeadScoreOut, **ERRORS})
def lead_scores(request, lead_id: int):
    """One lead's score, fit grade, engagement, probability and reasons (if you may see it)."""
    lead = visible(Lead.objects.all(), request.auth).filter(pk=lead_id).first()
    if lead is None:
        raise not_found("lead", lead_id, "lead_id")
    return lead_score(lead)
