"""Campaign ROI from the database: cost, sourced volumes and attributed revenue per campaign.

A campaign *sources* the leads whose original campaign it is (created in the period) and the
opportunities that name it (created in the period; won ones closed in the period). Revenue
credited by each attribution model comes from the revenue journeys labelled by campaign
(`services.load_journeys`), so a campaign also earns credit for deals it only influenced.
Costs are the share of each campaign's cost that falls on the period's days
(`campaigns.services.cost_in_period`). The ratios are computed by `engine.roi`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q

from closedloop.analytics.engine.roi import CampaignFigures
from closedloop.analytics.scope import Scope
from closedloop.analytics.services import Dimension, Outcome, compare_models, load_journeys
from closedloop.campaigns.models import Campaign
from closedloop.campaigns.services import cost_in_period
from closedloop.crm.models import Lead, LifecycleStage, Opportunity, OpportunityStage, StageChange

ROI_MODELS = ("first", "last", "linear", "w_shaped", "j_shaped", "markov")
# Stages at or past SQL: a lead there has been an SQL (a skipped stage still counts as passed).
AT_OR_PAST_SQL = (LifecycleStage.SQL, LifecycleStage.OPPORTUNITY, LifecycleStage.CUSTOMER)


@dataclass(frozen=True)
class RoiReport:
    """Per campaign figures for one scope and period, plus their totals."""

    since: datetime
    until: datetime
    models: tuple[str, ...]
    campaigns: list[CampaignFigures]
    ids: dict[str, int]  # campaign name -> id, for links
    currency: str

    @property
    def total(self) -> CampaignFigures:
        rows = self.campaigns
        return CampaignFigures(
            name="All campaigns",
            cost=sum(r.cost for r in rows),
            leads=sum(r.leads for r in rows),
            mqls=sum(r.mqls for r in rows),
            sqls=sum(r.sqls for r in rows),
            opportunities=sum(r.opportunities for r in rows),
            won=sum(r.won for r in rows),
            revenue_by_model={
                m: sum(r.revenue_by_model.get(m, 0.0) for r in rows) for m in self.models
            },
        )


def campaign_roi(
    *, scope: Scope, since: datetime, until: datetime, models: Sequence[str] = ROI_MODELS
) -> RoiReport:
    """Every campaign that cost something in [since, until) or sourced something there."""
    volumes = _sourced(scope, since, until)
    revenue = _attributed_revenue(scope, since, until, models)
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    rows, ids, currencies = [], {}, set()
    for campaign in Campaign.objects.order_by("name", "id"):
        cost = float(cost_in_period(campaign, first, last))
        counts = volumes.get(campaign.pk, {})
        credited = revenue.get(campaign.name, {})
        if cost <= 0 and not any(counts.values()) and not any(credited.values()):
            continue
        ids[campaign.name] = campaign.pk
        currencies.add(campaign.currency)
        rows.append(CampaignFigures(campaign.name, cost, **counts, revenue_by_model=credited))
    currency = currencies.pop() if len(currencies) == 1 else ""
    return RoiReport(since, until, tuple(models), rows, ids, currency)


def _sourced(scope: Scope, since: datetime, until: datetime) -> dict[int, dict[str, int]]:
    """Per campaign id: leads, MQLs, SQLs it sourced (leads created in the period), and the
    opportunities created and won in the period that name it."""
    reached_sql = Q(lifecycle_stage__in=AT_OR_PAST_SQL) | Q(was_sql=True)
    leads = (
        Lead.objects.filter(scope.owned(), created_at__gte=since, created_at__lt=until)
        .exclude(original_campaign=None)
        .annotate(
            was_sql=Exists(
                StageChange.objects.filter(lead=OuterRef("pk"), to_stage=LifecycleStage.SQL)
            )
        )
        .values("original_campaign")
        .annotate(
            leads=Count("id"),
            mqls=Count("id", filter=Q(mql_at__isnull=False)),
            sqls=Count("id", filter=reached_sql),
        )
    )
    found: dict[int, dict[str, int]] = {}
    for row in leads.order_by():
        found[row["original_campaign"]] = {k: row[k] for k in ("leads", "mqls", "sqls")}
    for campaign, opportunities, won in _opportunity_counts(scope, since, until):
        entry = found.setdefault(campaign, {"leads": 0, "mqls": 0, "sqls": 0})
        entry.update(opportunities=opportunities, won=won)
    return found


def _opportunity_counts(scope: Scope, since: datetime, until: datetime):
    created = Q(created_at__gte=since, created_at__lt=until)
    won = Q(stage=OpportunityStage.WON, closed_at__gte=since, closed_at__lt=until)
    rows = (
        Opportunity.objects.filter(scope.owned())
        .filter(created | won)
        .exclude(campaign=None)
        .values("campaign")
        .annotate(opportunities=Count("id", filter=created), won=Count("id", filter=won))
        .order_by()
    )
    return [(r["campaign"], r["opportunities"], r["won"]) for r in rows]


def _attributed_revenue(
    scope: Scope, since: datetime, until: datetime, models: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Per campaign name: {model: won revenue credited to it}."""
    loaded = load_journeys(
        scope=scope,
        outcome=Outcome.REVENUE,
        dimension=Dimension.CAMPAIGN,
        since=since,
        until=until,
    )
    found: dict[str, dict[str, float]] = {}
    for model, credits in compare_models(loaded=loaded, models_wanted=models).items():
        for name, figures in credits.as_dict().items():
            found.setdefault(name, {})[model] = figures["value"]
    return found
