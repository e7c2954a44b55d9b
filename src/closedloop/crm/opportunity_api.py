"""JSON API for the pipeline (mounted at /api/v1): the stages in force, the close reasons, and
the acts on a deal: move, close (won or lost, with a reason and a note), reopen (admins), and
its stage history. A deal the token's user may not see is a 404; moving or closing one they
may see but do not work (another rep's) is a 403. Every write is a crm service call."""

from __future__ import annotations

import datetime
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, BodySchema, OutSchema, expected_version, set_etag
from closedloop.crm import services
from closedloop.crm.api import OpportunityOut, StageCode, opportunity_or_404, opportunity_out
from closedloop.crm.models import CloseOutcome, OpportunityStageChange

router = Router(auth=token_auth, tags=["pipeline"])


class PipelineStageOut(Schema):
    code: str
    label: str
    probability: int = Field(description="percent the weighted pipeline counts")
    outcome: str | None = Field(None, description="won or lost for the closing stages")


class PipelineOut(Schema):
    stages: list[PipelineStageOut]


class CloseReasonOut(OutSchema):
    outcome: str
    code: str
    label: str


class StageChangeOut(OutSchema):
    from_stage: str
    to_stage: str
    at: datetime.datetime
    by: int | None = Field(None, validation_alias="by_id")
    reason: str


class MoveIn(BodySchema):
    stage: StageCode


class CloseIn(BodySchema):
    outcome: Literal["won", "lost"]
    reason: str = Field(max_length=40, description="a code from GET /close-reasons")
    note: str = Field(max_length=5000, description="what happened, in words (required)")


class ReopenIn(BodySchema):
    reason: str = Field(max_length=300, description="why the closed deal reopens (audited)")
    stage: str = Field("", max_length=32, description="default: the stage it closed from")


@router.get("/pipeline", response={200: PipelineOut, **ERRORS})
def pipeline(request):
    """The contract's opportunity stages in order, with their probabilities."""
    return {"stages": [s.as_dict() for s in services.pipeline_stages()]}


@router.get("/close-reasons", response={200: list[CloseReasonOut], **ERRORS})
def close_reasons(request, outcome: Literal["won", "lost"] | None = None):
    """The active reasons a deal may be closed for, per outcome, in their order."""
    outcomes = [outcome] if outcome else list(CloseOutcome.values)
    return [r for o in outcomes for r in services.close_reasons(o)]


@router.get(
    "/opportunities/{opportunity_id}/history", response={200: list[StageChangeOut], **ERRORS}
)
def history(request, opportunity_id: int):
    """The deal's stage moves, newest first: who, when, from, to and why."""
    opportunity = opportunity_or_404(request.auth, opportunity_id)
    return list(OpportunityStageChange.objects.filter(opportunity=opportunity))


@router.post("/opportunities/{opportunity_id}/move", response={200: OpportunityOut, **ERRORS})
def move(request, opportunity_id: int, payload: MoveIn, response: HttpResponse):
    """Move an open deal to another open stage (If-Match: "<version>" optional)."""
    opportunity = opportunity_or_404(request.auth, opportunity_id)
    opportunity = services.move_opportunity(
        opportunity, by=request.auth, to=payload.stage, expected_version=expected_version(request)
    )
    set_etag(response, opportunity.version)
    return opportunity_out(opportunity)


@router.post("/opportunities/{opportunity_id}/close", response={200: OpportunityOut, **ERRORS})
def close(request, opportunity_id: int, payload: CloseIn, response: HttpResponse):
    """Close an open deal as won or lost, with a reason from the managed list and a note."""
    opportunity = opportunity_or_404(request.auth, opportunity_id)
    opportunity = services.close_opportunity(
        opportunity,
        by=request.auth,
        won=payload.outcome == "won",
        reason=payload.reason,
        note=payload.note,
        expected_version=expected_version(request),
    )
    set_etag(response, opportunity.version)
    return opportunity_out(opportunity)


@router.post("/opportunities/{opportunity_id}/reopen", response={200: OpportunityOut, **ERRORS})
def reopen(request, opportunity_id: int, payload: ReopenIn, response: HttpResponse):
    """Admins: reopen a closed deal with a reason (kept in its history and the audit log)."""
    opportunity = opportunity_or_404(request.auth, opportunity_id)
    opportunity = services.reopen_opportunity(
        opportunity,
        by=request.auth,
        reason=payload.reason,
        to=payload.stage,
        expected_version=expected_version(request),
    )
    set_etag(response, opportunity.version)
    return opportunity_out(opportunity)
