"""Analytics' JSON API under /api/v1/analytics: attribution by model side by side, campaign ROI,
the scoreboard's figures.

Every figure covers only what the token's user may see: reps and managers their team's
opportunities and leads, marketing, executives and admins everything.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from datetime import timedelta
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import BeforeValidator, WithJsonSchema

from closedloop.analytics import goal_views, goals, roi, scoreboard_views, snapshots
from closedloop.analytics.engine.attribution import MODELS
from closedloop.analytics.engine.roi import CampaignFigures, return_on_cost, unit_costs
from closedloop.analytics.scope import Scope, scope_for
from closedloop.analytics.services import Dimension, Outcome, compare_models, load_journeys
from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, Id, PathId, UtcDatetime, invalid, not_found

router = Router(auth=token_auth, tags=["analytics"])

DEFAULT_MODELS = "first,last,linear,u_shaped,w_shaped,markov"
DEFAULT_DAYS = 90


class CreditOut(Schema):
    label: str
    conversions: float
    value: float


class AttributionOut(Schema):
    outcome: str
    dimension: str
    since: str
    until: str
    outcomes: int
    unattributed_conversions: int
    unattributed_value: float
    models: dict[str, list[CreditOut]]


@router.get("/analytics/attribution", response={200: AttributionOut, **ERRORS})
def attribution(
    request,
    outcome: Outcome = Outcome.PIPELINE,
    dimension: Dimension = Dimension.CHANNEL,
    models: str = DEFAULT_MODELS,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
):
    """Credit per channel, campaign or content for pipeline or won revenue, per model.

    `models` is a comma-separated list of first, last, linear, time_decay, u_shaped,
    u_shaped_marketo, w_shaped, full_path, j_shaped, inverse_j, markov, shapley. The period
    defaults to the last 90 days. Sales activities (calls, meetings, emails) are touches like
    marketing's.
    """
    until = until or timezone.now()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise invalid("since", "must be before until")
    wanted = [name.strip() for name in models.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in MODELS]
    if not wanted or unknown:
        raise invalid(
            "models", f"unknown model {unknown[0] if unknown else ''!r}; known: {', '.join(MODELS)}"
        )
    loaded = load_journeys(
        user=request.auth, outcome=outcome, dimension=dimension, since=since, until=until
    )
    credits = compare_models(loaded=loaded, models_wanted=wanted)
    return {
        "outcome": outcome,
        "dimension": dimension,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "outcomes": loaded.outcomes,
        "unattributed_conversions": loaded.unattributed_conversions,
        "unattributed_value": loaded.unattributed_value,
        "models": {name: _rows(result.as_dict()) for name, result in credits.items()},
    }


def _rows(credits: dict[str, dict[str, float]]) -> list[dict]:
    rows = [
        {"label": label, "conversions": c["conversions"], "value": c["value"]}
        for label, c in credits.items()
    ]
    return sorted(rows, key=lambda row: (-row["conversions"], row["label"]))


class CampaignRoiOut(Schema):
    campaign: str
    campaign_id: int | None
    cost: float
    leads: int
    mqls: int
    sqls: int
    opportunities: int
    won: int
    cost_per_lead: float | None
    cost_per_mql: float | None
    cost_per_sql: float | None
    cost_per_opportunity: float | None
    cac: float | None
    revenue_by_model: dict[str, float]
    roi_by_model: dict[str, float | None]


class RoiReportOut(Schema):
    since: str
    until: str
    scope: str
    currency: str
    models: list[str]
    campaigns: list[CampaignRoiOut]
    total: CampaignRoiOut


@router.get("/analytics/campaign-roi", response={200: RoiReportOut, **ERRORS})
def campaign_roi(
    request,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    team: Id | None = None,
):
    """Per campaign: cost in the period, sourced leads, MQLs, SQLs, opportunities and won
    deals, cost per each and CAC, and won revenue credited per attribution model ÷ cost.

    Reps and managers get their team's figures whatever `team` says; marketing, executives
    and admins the company's, or one team's.
    """
    until = until or timezone.now()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise invalid("since", "must be before until")
    scope = scope_for(request.auth, team_id=team)
    report = roi.campaign_roi(scope=scope, since=since, until=until)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "scope": scope.key,
        "currency": report.currency,
        "models": list(report.models),
        "campaigns": [_roi(f, report.ids.get(f.name)) for f in report.campaigns],
        "total": _roi(report.total, None),
    }


def _roi(figures: CampaignFigures, campaign_id: int | None) -> dict:
    return {
        "campaign": figures.name,
        "campaign_id": campaign_id,
        "cost": figures.cost,
        "leads": figures.leads,
        "mqls": figures.mqls,
        "sqls": figures.sqls,
        "opportunities": figures.opportunities,
        "won": figures.won,
        **unit_costs(figures),
        "revenue_by_model": dict(figures.revenue_by_model),
        "roi_by_model": return_on_cost(figures),
    }


class ScoreboardOut(Schema):
    status: str = Field(description="ready, or computing (ask again in a few seconds)")
    scope: str
    since: str
    until: str
    as_of: str | None = None
    figures: dict[str, float | int | None] = {}
    weekly: dict[str, list] = {}
    history: dict = {}
    goal_id: int | None = None
    pacing: dict | None = None


def _iso_date(value):
    # Pydantic would read "0" as 1970-01-01 (Unix time); the documented format is YYYY-MM-DD.
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[
    datetime.date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
]


@router.get("/analytics/scoreboard", response={200: ScoreboardOut, 202: ScoreboardOut, **ERRORS})
def scoreboard(
    request,
    period: Literal["quarter", "last_30", "last_90", "custom"] = "quarter",
    since: IsoDate | None = None,
    until: IsoDate | None = None,
    team: Id | None = None,
):
    """Every scoreboard figure for a period (standard, or custom with since/until as days,
    both included) and team, from the worker's snapshot: 202 with status "computing" while
    one is made. Reps and managers get their team's figures whatever `team` says."""
    chosen = _period(period, since, until)
    scope = scope_for(request.auth, team_id=team)
    data = scoreboard_views.figures_for(scope, chosen)
    base = {
        "scope": scope.key,
        "since": chosen.since.isoformat(),
        "until": chosen.until.isoformat(),
    }
    if data is None:
        return Status(202, {"status": "computing", **base})
    pacing = data.get("pacing")
    return {
        "status": "ready",
        **base,
        "as_of": data["as_of"],
        "figures": data["figures"],
        "weekly": data["weekly"],
        "history": data.get("history", {}),
        "goal_id": data["goal"].pk if data.get("goal") else None,
        "pacing": dataclasses.asdict(pacing) if pacing else None,
    }


def _period(period: str, since, until) -> snapshots.Period:
    if period != "custom":
        return snapshots.standard_periods()[period]
    if since is None or until is None:
        raise invalid(
            "since" if since is None else "until", "a custom period needs since and until"
        )
    if since > until:
        raise invalid("since", "must be on or before until")
    return snapshots.Period(
        snapshots.day_start(since), snapshots.day_start(until) + timedelta(days=1)
    )


class GoalOut(Schema):
    id: int
    team: int | None
    starts_on: datetime.date
    months: int
    amount: float
    status: str
    signed_by: dict[str, str]
    plan: dict | None = Field(None, description="needed per stage and month; None while computed")
    pacing: dict | None = None


@router.get("/analytics/goals", response={200: list[GoalOut], **ERRORS})
def list_goals(request):
    """The goals the user may see: the company's, and their team's (all teams' for marketing,
    executives and admins), newest first, without plans."""
    found = goal_views.visible_goals(request.auth).prefetch_related("signoffs__user")
    return [_goal(goal, None) for goal in found[:200]]


@router.get("/analytics/goals/{goal_id}", response={200: GoalOut, **ERRORS})
def get_goal(request, goal_id: PathId):
    """A goal with its plan (volumes needed per stage and month, what each team delivers) and
    its pacing, from the scope's snapshot."""
    goal = goal_views.visible_goals(request.auth).filter(pk=goal_id).first()
    if goal is None:
        raise not_found("goal", goal_id)
    scope = Scope(team_id=goal.team_id)
    since, until = goals.goal_period(goal)
    data = snapshots.read_snapshot(scope, snapshots.Period(since, until))
    return _goal(goal, data)


def _goal(goal, data: dict | None) -> dict:
    paced = None
    if data is not None:
        since, until = goals.goal_period(goal)
        paced = goals.with_goal(data, scope=Scope(team_id=goal.team_id), since=since, until=until)
    pacing = paced.get("pacing") if paced else None
    return {
        "id": goal.pk,
        "team": goal.team_id,
        "starts_on": goal.starts_on,
        "months": goal.months,
        "amount": float(goal.amount),
        "status": goal.status,
        "signed_by": {s.side: str(s.user) for s in goal.signoffs.all()},
        "plan": goals.plan(goal, data["history"]) if data else None,
        "pacing": dataclasses.asdict(pacing) if pacing else None,
    }
