"""The funnel's measured history that goal plans and pacing read: how many records reached
each stage over the last year, the average days between stages, the average deal size.

Computed by the worker as part of each scoreboard snapshot (`scoreboard.compute_scoreboard`),
so no page computes it. The funnel work (per-lead stage timestamps) will supply the same
figures from its own service; until then they come from the stage history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Avg, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery

from closedloop.analytics.scope import Scope
from closedloop.crm.models import Lead, LifecycleStage, Opportunity, OpportunityStage, StageChange

LOOK_BACK = timedelta(days=365)
AT_OR_PAST_SQL = (LifecycleStage.SQL, LifecycleStage.OPPORTUNITY, LifecycleStage.CUSTOMER)


def _days(start: str, end: str):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _avg_days(queryset, start: str, end: str) -> float | None:
    found = queryset.aggregate(lag=Avg(_days(start, end)))["lag"]
    return found.total_seconds() / 86_400 if found is not None else None


def measured_history(scope: Scope, *, now: datetime) -> dict:
    """{"reached": {stage: count}, "lag_days": {stage: days to the next}, "deal_size": x}."""
    since = now - LOOK_BACK
    leads = Lead.objects.filter(scope.owned(), created_at__gte=since, created_at__lt=now)
    was_sql = Exists(StageChange.objects.filter(lead=OuterRef("pk"), to_stage=LifecycleStage.SQL))
    sql = Q(lifecycle_stage__in=AT_OR_PAST_SQL) | Q(was_sql=True)
    opportunities = Opportunity.objects.filter(
        scope.owned(), created_at__gte=since, created_at__lt=now
    )
    won = Opportunity.objects.filter(
        scope.owned(), stage=OpportunityStage.WON, closed_at__gte=since, closed_at__lt=now
    )
    reached = {
        "lead": leads.count(),
        "mql": leads.filter(mql_at__isnull=False).count(),
        "sql": leads.annotate(was_sql=was_sql).filter(sql).count(),
        "opportunity": opportunities.count(),
        "won": won.count(),
    }
    return {
        "reached": reached,
        "lag_days": _lags(scope, since, now, opportunities, won),
        "deal_size": _avg_amount(won),
    }


def _lags(scope: Scope, since: datetime, now: datetime, opportunities, won) -> dict:
    mqls = Lead.objects.filter(scope.owned(), mql_at__gte=since, mql_at__lt=now)
    to_sql = StageChange.objects.filter(
        scope.owned("lead__"),
        to_stage=LifecycleStage.SQL,
        at__gte=since,
        at__lt=now,
        lead__mql_at__isnull=False,
        lead__mql_at__lte=F("at"),
    )
    first_sql = (
        StageChange.objects.filter(
            lead__opportunity_roles__opportunity=OuterRef("pk"), to_stage=LifecycleStage.SQL
        )
        .order_by("at")
        .values("at")[:1]
    )
    with_sql = opportunities.annotate(sql_at=Subquery(first_sql)).filter(
        sql_at__isnull=False, sql_at__lte=F("created_at")
    )
    return {
        "lead": _avg_days(mqls, "created_at", "mql_at"),
        "mql": _avg_days(to_sql, "lead__mql_at", "at"),
        "sql": _avg_days(with_sql, "sql_at", "created_at"),
        "opportunity": _avg_days(won, "created_at", "closed_at"),
    }


def _avg_amount(won) -> float | None:
    found = won.aggregate(size=Avg("amount"))["size"]
    return float(found) if found is not None else None
