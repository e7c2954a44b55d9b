"""The funnel's JSON API: `GET /api/v1/analytics/funnel`, every figure of the funnel page.

Covers only the leads the token's user may see (reps and managers: their team's; marketing,
executives and admins: everything, optionally one `team`).
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from ninja import Router, Schema

from closedloop.analytics.funnel import Dimension, Group, drill_down_query, funnel_report
from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, Id, UtcDatetime, invalid
from closedloop.core.models import Team
from closedloop.core.permissions import visible
from closedloop.crm.models import Lead

router = Router(auth=token_auth, tags=["analytics"])

DEFAULT_DAYS = 365


class StepOut(Schema):
    stage: str
    next_stage: str
    entered: int
    converted: int
    conversion_rate: float
    median_days: float | None
    p90_days: float | None
    entered_leads: str
    converted_leads: str


class GroupOut(Schema):
    key: str
    label: str
    leads: int
    steps: list[StepOut]


class FunnelOut(Schema):
    dimension: str
    since: str
    until: str
    total: GroupOut | None
    groups: list[GroupOut]
    trend: list[GroupOut]


@router.get("/analytics/funnel", response={200: FunnelOut, **ERRORS})
def funnel(
    request,
    dimension: Dimension = Dimension.SOURCE,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    team: Id | None = None,
):
    """Conversion from each stage to the next (lead → MQL → SAL → SQL → opportunity →
    customer) and days in stage (median, p90) for the leads created in [since, until), by
    `dimension`, with the whole scope (`total`) and the trend by creation month. The period
    defaults to the last 365 days. `entered_leads` / `converted_leads` are the leads list's
    URLs of the leads behind each number. `team` (a team id) narrows to one team, for users
    who see every team."""
    user = request.auth
    until = until or timezone.now()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise invalid("since", "must be before until")
    leads = visible(Lead.objects.all(), user)
    if team is not None:
        if not user.sees_all_leads or not Team.objects.filter(pk=team).exists():
            raise invalid("team", "no team with this id that you may choose")
        leads = leads.filter(owner__team_id=team)
    report = funnel_report(leads, dimension=dimension, since=since, until=until)
    out = _Out(dimension, since, until, team)
    return {
        "dimension": dimension,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "total": out.group(report.total) if report.total else None,
        "groups": [out.group(g) for g in report.groups],
        "trend": [out.group(g, Dimension.COHORT) for g in report.trend],
    }


class _Out:
    def __init__(self, dimension, since, until, team):
        self.dimension, self.since, self.until, self.team = dimension, since, until, team
        self.leads_url = reverse("lead-list")

    def group(self, group: Group, dimension: str | None = None) -> dict:
        dimension = dimension or self.dimension
        return {
            "key": group.key,
            "label": group.label,
            "leads": group.leads,
            "steps": [
                {
                    **step.__dict__,
                    "entered_leads": self._url(dimension, group.key, step.stage),
                    "converted_leads": self._url(dimension, group.key, step.next_stage),
                }
                for step in group.steps
            ],
        }

    def _url(self, dimension: str, key: str, stage: str) -> str:
        query = drill_down_query(
            dimension=dimension,
            key=key,
            stage=stage,
            since=self.since,
            until=self.until,
            team=self.team,
        )
        return f"{self.leads_url}?{query}"
