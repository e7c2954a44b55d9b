"""Attribution from the database: opportunities, their contacts' touches and sales activities.

`load_journeys` turns what a user may see into `Journeys` for the pure engine: one journey
per opportunity (the touches of all its contacts, marketing and sales alike, up to the moment
the outcome happened) plus one null journey per visible lead created in the period that never
reached the outcome. `compare_models` runs several models on them. Reps and managers see their
team's opportunities and leads; marketing, executives and admins see everything
(`core.permissions`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Q

from closedloop.analytics.engine.attribution import MODELS, attribute
from closedloop.analytics.engine.credits import Credits
from closedloop.analytics.engine.journeys import Journeys, journeys_from_paths
from closedloop.analytics.scope import Scope
from closedloop.core.models import User
from closedloop.core.permissions import lead_visibility
from closedloop.crm.models import (
    Activity,
    ActivityKind,
    Lead,
    Opportunity,
    OpportunityContact,
    OpportunityStage,
)
from closedloop.crm.permissions import opportunity_visibility
from closedloop.engagement.models import Touchpoint

SECONDS_PER_DAY = 86_400.0


class Outcome(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline (opportunities created)"
    REVENUE = "revenue", "Revenue (opportunities won)"


class Dimension(models.TextChoices):
    CHANNEL = "channel", "Channel"
    CAMPAIGN = "campaign", "Campaign"
    CONTENT = "content", "Content"


@dataclass(frozen=True)
class Touch:
    """One touch of a person: when, and its label in the chosen dimension."""

    at: datetime
    label: str


@dataclass(frozen=True)
class Loaded:
    """Journeys for the engine plus what could not be attributed (no touch at all)."""

    journeys: Journeys | None
    outcomes: int
    unattributed_conversions: int
    unattributed_value: float


def load_journeys(
    *,
    user: User | None = None,
    scope: Scope | None = None,
    outcome: str,
    dimension: str,
    since: datetime,
    until: datetime,
) -> Loaded:
    """Journeys of the opportunities (and non-converting leads) `user` may see in [since, until).

    Pipeline: an opportunity created in the period converts, worth its amount, with the touches
    before its creation. Revenue: an opportunity won (closed) in the period, with the touches
    before it closed. Milestones: lead creation is the last touch at or before the first
    contact was created, opportunity creation the last touch before the opportunity was, and
    closed-won the last touch. Ages are days before the outcome.

    Records are what `user` may see, or (for the worker's snapshots) those of `scope`.
    """
    leads_rule, opportunities_rule = _rules(user, scope)
    opportunities = _opportunities(opportunities_rule, outcome, since, until)
    contacts = _contacts([o["id"] for o in opportunities])
    converting_leads = {lead for leads in contacts.values() for lead, _ in leads}
    nulls = _null_leads(leads_rule, outcome, since, until, converting_leads)
    touches = _touches(converting_leads | set(nulls), dimension)
    rows: list[_Row] = []
    lost_count, lost_value = 0, 0.0
    for opp in opportunities:
        row = _opportunity_row(opp, contacts.get(opp["id"], []), touches, outcome)
        if row is None:
            lost_count, lost_value = lost_count + 1, lost_value + float(opp["amount"])
        else:
            rows.append(row)
    rows += [r for r in (_null_row(lead, touches, until) for lead in nulls) if r is not None]
    return Loaded(_as_journeys(rows), len(opportunities), lost_count, lost_value)


def compare_models(
    *, loaded: Loaded, models_wanted: Sequence[str], settings: dict | None = None
) -> dict[str, Credits]:
    """Credits of each wanted model on the same journeys (settings: per model name)."""
    unknown = [m for m in models_wanted if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown model {unknown[0]!r}; known: {', '.join(MODELS)}")
    if loaded.journeys is None:
        return {}
    settings = settings or {}
    return {m: attribute(loaded.journeys, model=m, **settings.get(m, {})) for m in models_wanted}


@dataclass(frozen=True)
class _Row:
    path: list[str]
    ages: list[float]
    converted: bool
    value: float
    milestones: dict[str, int]


def _rules(user: User | None, scope: Scope | None) -> tuple[Q, Q]:
    """Filters on leads and on opportunities: what `user` may see, or what `scope` covers."""
    if scope is not None:
        return scope.owned(), scope.owned()
    if user is None:
        raise ValueError("load_journeys needs a user or a scope")
    return lead_visibility(user) or Q(), opportunity_visibility(user) or Q()


def _opportunities(rule: Q, outcome: str, since: datetime, until: datetime) -> list[dict]:
    queryset = Opportunity.objects.filter(rule)
    if outcome == Outcome.REVENUE:
        queryset = queryset.filter(
            stage=OpportunityStage.WON, closed_at__gte=since, closed_at__lt=until
        )
    else:
        queryset = queryset.filter(created_at__gte=since, created_at__lt=until)
    fields = ("id", "amount", "created_at", "closed_at")
    return list(queryset.order_by("id").values(*fields))


def _contacts(opportunity_ids: list[int]) -> dict[int, list[tuple[int, datetime]]]:
    """Per opportunity, its contacts as (lead id, lead created at), earliest first."""
    found: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    rows = OpportunityContact.objects.filter(opportunity_id__in=opportunity_ids).values_list(
        "opportunity_id", "lead_id", "lead__created_at"
    )
    for opp, lead, created in rows.order_by("lead__created_at", "lead_id"):
        found[opp].append((lead, created))
    return found


def _null_leads(
    rule: Q, outcome: str, since: datetime, until: datetime, converting: set[int]
) -> dict[int, datetime]:
    """Leads (of `rule`) created in the period that are no contact of a converting opportunity."""
    leads = Lead.objects.filter(rule, created_at__gte=since, created_at__lt=until)
    reached = OpportunityContact.objects.all()
    if outcome == Outcome.REVENUE:
        reached = reached.filter(opportunity__stage=OpportunityStage.WON)
    leads = leads.exclude(id__in=reached.values("lead_id"))
    return {
        lead: created
        for lead, created in leads.values_list("id", "created_at")
        if lead not in converting
    }


def _touches(lead_ids: Iterable[int], dimension: str) -> dict[int, list[Touch]]:
    """Every touch of these leads, marketing touchpoints and sales activities, by time."""
    ids = list(lead_ids)
    found: dict[int, list[Touch]] = defaultdict(list)
    for lead, at, label in _touchpoint_labels(ids, dimension):
        if label:
            found[lead].append(Touch(at, label))
    sales = Activity.objects.filter(lead_id__in=ids).exclude(kind=ActivityKind.NOTE)
    for lead, at, kind in sales.values_list("lead_id", "at", "kind"):
        found[lead].append(Touch(at, f"sales {kind}"))
    for touches in found.values():
        touches.sort(key=lambda touch: touch.at)
    return found


def _touchpoint_labels(ids: list[int], dimension: str) -> Iterable[tuple[int, datetime, str]]:
    """(lead, when, label) per touchpoint; the label is empty when the touch has none."""
    queryset = Touchpoint.objects.filter(lead_id__in=ids)
    if dimension == Dimension.CAMPAIGN:
        return queryset.values_list("lead_id", "occurred_at", "campaign__name")
    if dimension == Dimension.CONTENT:
        return queryset.values_list("lead_id", "occurred_at", "content__title")
    rows = queryset.values_list("lead_id", "occurred_at", "channel", "campaign__channel", "type")
    return ((lead, at, own or campaign or kind) for lead, at, own, campaign, kind in rows)


def _opportunity_row(
    opp: dict, contacts: list[tuple[int, datetime]], touches: dict[int, list[Touch]], outcome: str
) -> _Row | None:
    end = opp["closed_at"] if outcome == Outcome.REVENUE else opp["created_at"]
    merged = sorted(
        (t for lead, _ in contacts for t in touches.get(lead, []) if t.at <= end),
        key=lambda touch: touch.at,
    )
    if not merged:
        return None
    milestones = {
        "lead": _last_at_or_before(merged, contacts[0][1]),
        "opportunity": _last_at_or_before(merged, opp["created_at"]),
    }
    if outcome == Outcome.REVENUE:
        milestones["won"] = len(merged) - 1
    return _Row(
        path=[t.label for t in merged],
        ages=[(end - t.at).total_seconds() / SECONDS_PER_DAY for t in merged],
        converted=True,
        value=float(opp["amount"]),
        milestones=milestones,
    )


def _null_row(lead: int, touches: dict[int, list[Touch]], until: datetime) -> _Row | None:
    found = [t for t in touches.get(lead, []) if t.at < until]
    if not found:
        return None
    ages = [(until - t.at).total_seconds() / SECONDS_PER_DAY for t in found]
    return _Row([t.label for t in found], ages, False, 0.0, {})


def _last_at_or_before(touches: list[Touch], moment: datetime) -> int:
    """Position of the last touch at or before `moment`; the first touch if none is."""
    before = [i for i, touch in enumerate(touches) if touch.at <= moment]
    return before[-1] if before else 0


def _as_journeys(rows: list[_Row]) -> Journeys | None:
    if not rows:
        return None
    return journeys_from_paths(
        [r.path for r in rows],
        [1.0 if r.converted else 0.0 for r in rows],
        [r.value for r in rows],
        [0.0 if r.converted else 1.0 for r in rows],
        ages=[r.ages for r in rows],
        milestones={
            name: [r.milestones.get(name, -1) for r in rows]
            for name in ("lead", "opportunity", "won")
        },
    )
