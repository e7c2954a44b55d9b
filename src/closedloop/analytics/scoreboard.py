"""The scoreboard's figures: what both teams measure the same way, for one scope and period.

`compute_scoreboard(scope, since, until)` returns plain JSON-ready values (the worker stores
them as a snapshot, `analytics.snapshots`); `drill_down(figure, ...)` gives the records behind
a figure. Definitions (docs/analytics.md, "Scoreboard"):
- marketing-sourced: an opportunity that names a marketing campaign (any type but sales
  outbound) or has a contact who came from a marketing source (anything but sales outbound,
  import and other); marketing-influenced: a contact had a marketing touch before the
  opportunity was created. Pipeline: amounts of opportunities created in the period; revenue:
  amounts of opportunities won (closed) in the period;
- MQLs delivered: leads that became MQL in the period, against the contract's promise
  (`mql_per_rep_month` × reps in the scope × months of the period);
- MQL→SAL acceptance: of those MQLs, the share sales accepted (an acceptance, a move to SAL,
  or a stage at or past SAL now; floor: the contract's);
- SLA hit rate: of the sales clocks started in the period that are decided, the share first
  touched by the deadline;
- win rate: won ÷ (won + lost) closed in the period; sales cycle: median days from
  opportunity creation to win; CAC: campaign cost of the period ÷ won deals (company only).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from closedloop.analytics.history import measured_history
from closedloop.analytics.scope import Scope
from closedloop.campaigns.models import Campaign, CampaignType
from closedloop.campaigns.services import cost_in_period
from closedloop.content.models import ContentAsset
from closedloop.core.models import Role, User
from closedloop.crm.models import (
    Lead,
    LeadSource,
    LifecycleStage,
    Opportunity,
    OpportunityContact,
    OpportunityStage,
    StageChange,
)
from closedloop.definitions.services import contract_in_force
from closedloop.engagement.models import Touchpoint
from closedloop.handoff.models import Acceptance, LeadSla
from closedloop.vocabulary import MARKETING_TOUCH_TYPES

NOT_MARKETING_SOURCES = (LeadSource.OUTBOUND, LeadSource.IMPORT, LeadSource.OTHER)
MARKETING_SOURCES = tuple(s for s in LeadSource.values if s not in NOT_MARKETING_SOURCES)
MAX_WEEKS = 26
AT_OR_PAST_SAL = (
    LifecycleStage.SAL,
    LifecycleStage.SQL,
    LifecycleStage.OPPORTUNITY,
    LifecycleStage.CUSTOMER,
)
DAYS_PER_MONTH = 30.4375


def compute_scoreboard(
    *, scope: Scope, since: datetime, until: datetime, history: dict | None = None
) -> dict:
    """Every figure of the scoreboard for `scope` in [since, until), JSON-ready. `history`
    (the scope's measured funnel, the same for every period) is computed unless given."""
    figures: dict[str, float | int | None] = {}
    figures |= _pipeline_and_revenue(scope, since, until)
    figures |= _mqls(scope, since, until)
    figures |= _sla(scope, since, until)
    figures |= _wins(scope, since, until)
    figures["cac"] = _cac(scope, since, until, figures["won"])
    figures |= _content(scope, since, until)
    return {
        "scope": scope.key,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "as_of": timezone.now().isoformat(),
        "figures": figures,
        "weekly": weekly_trend(scope, since, until),
        "history": history or measured_history(scope, now=timezone.now()),
    }


# --- opportunities --------------------------------------------------------------------------


def opportunities(scope: Scope) -> QuerySet:
    """Opportunities of the scope, annotated with `sourced` and `influenced` (see module)."""
    marketing_campaign = Q(campaign__isnull=False) & ~Q(campaign__type=CampaignType.OUTBOUND)
    from_marketing = OpportunityContact.objects.filter(
        opportunity=OuterRef("pk"), lead__source__in=MARKETING_SOURCES
    )
    touched = Touchpoint.objects.filter(
        lead__opportunity_roles__opportunity=OuterRef("pk"),
        type__in=MARKETING_TOUCH_TYPES,
        occurred_at__lte=OuterRef("created_at"),
    )
    return (
        Opportunity.objects.filter(scope.owned())
        .annotate(contact_sourced=Exists(from_marketing), influenced=Exists(touched))
        .annotate(sourced=Q(contact_sourced=True) | marketing_campaign)
    )


def _created(since: datetime, until: datetime) -> Q:
    return Q(created_at__gte=since, created_at__lt=until)


def _won(since: datetime, until: datetime) -> Q:
    return Q(stage=OpportunityStage.WON, closed_at__gte=since, closed_at__lt=until)


def _pipeline_and_revenue(scope: Scope, since: datetime, until: datetime) -> dict:
    # One query per figure: a conditional aggregate over the Exists annotations came back
    # empty on SQLite once the period filter joined it, so each subset is filtered instead.
    result = {}
    for name, window in (("pipeline", _created(since, until)), ("revenue", _won(since, until))):
        records = opportunities(scope).filter(window)
        rows = records.aggregate(total=Sum("amount"), count=Count("id"))
        result[name] = float(rows["total"] or 0)
        result[f"{name}_count"] = rows["count"]
        for kind in ("sourced", "influenced"):
            found = records.filter(**{kind: True}).aggregate(total=Sum("amount"))["total"]
            result[f"{kind}_{name}"] = float(found or 0)
    return result


def _wins(scope: Scope, since: datetime, until: datetime) -> dict:
    closed = Opportunity.objects.filter(scope.owned(), closed_at__gte=since, closed_at__lt=until)
    won = list(closed.filter(stage=OpportunityStage.WON).values_list("created_at", "closed_at"))
    lost = closed.filter(stage=OpportunityStage.LOST).count()
    cycle = [(end - start).total_seconds() / 86_400 for start, end in won if end is not None]
    return {
        "won": len(won),
        "lost": lost,
        "win_rate": len(won) / (len(won) + lost) if won or lost else None,
        "cycle_days": statistics.median(cycle) if cycle else None,
    }


def _cac(scope: Scope, since: datetime, until: datetime, won) -> float | None:
    """Campaign cost of the period ÷ won deals; only for the whole company (costs are not
    split between teams)."""
    if not scope.is_company or not won:
        return None
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    cost = sum(float(cost_in_period(c, first, last)) for c in Campaign.objects.all())
    return cost / won


# --- leads ------------------------------------------------------------------------------------


def mql_leads(scope: Scope, since: datetime, until: datetime) -> QuerySet:
    return Lead.objects.filter(scope.owned(), mql_at__gte=since, mql_at__lt=until)


def accepted_rule() -> Q:
    """A lead sales accepted: an acceptance was recorded, it moved to SAL, or it is at or past
    SAL now (imported and demo histories have stage moves without acceptance rows)."""
    return (
        Q(lifecycle_stage__in=AT_OR_PAST_SAL)
        | Exists(Acceptance.objects.filter(lead=OuterRef("pk")))
        | Exists(StageChange.objects.filter(lead=OuterRef("pk"), to_stage=LifecycleStage.SAL))
    )


def _mqls(scope: Scope, since: datetime, until: datetime) -> dict:
    mqls = mql_leads(scope, since, until)
    counts = {"mqls": mqls.count(), "accepted": mqls.filter(accepted_rule()).count()}
    sla = _contract_sla()
    promise = None
    if sla is not None:
        months = (until - since).total_seconds() / 86_400 / DAYS_PER_MONTH
        promise = sla.mql_per_rep_month * _reps(scope) * months
    return {
        "mqls": counts["mqls"],
        "mql_promise": promise,
        "accepted": counts["accepted"],
        "acceptance_rate": counts["accepted"] / counts["mqls"] if counts["mqls"] else None,
        "acceptance_floor": sla.accept_rate_floor if sla is not None else None,
    }


def _reps(scope: Scope) -> int:
    reps = User.objects.filter(role=Role.REP, is_active=True)
    if scope.team_id is not None:
        reps = reps.filter(team_id=scope.team_id)
    elif scope.owner_id is not None:
        reps = reps.filter(pk=scope.owner_id)
    return reps.count()


def _contract_sla():
    return contract_in_force().sla


def sla_clocks(scope: Scope, since: datetime, until: datetime) -> QuerySet:
    """Sales clocks started in the period whose outcome is known (touched, or past due)."""
    decided = Q(first_touched_at__isnull=False) | Q(first_touch_due__lt=timezone.now())
    return LeadSla.objects.filter(
        scope.owned("lead__"), decided, started_at__gte=since, started_at__lt=until
    )


def _sla(scope: Scope, since: datetime, until: datetime) -> dict:
    hit = Q(first_touched_at__isnull=False, first_touched_at__lte=F("first_touch_due"))
    counts = sla_clocks(scope, since, until).aggregate(
        clocks=Count("id"), hit=Count("id", filter=hit)
    )
    rate = counts["hit"] / counts["clocks"] if counts["clocks"] else None
    return {"sla_clocks": counts["clocks"], "sla_hit": counts["hit"], "sla_hit_rate": rate}


def _content(scope: Scope, since: datetime, until: datetime) -> dict:
    """Content views in the period (touches of the scope's leads that name an asset), and how
    many of the library's assets they used. The content app's own usage figures (shares by
    reps, deal influence) will replace these when it has them."""
    views = Touchpoint.objects.filter(
        scope.owned("lead__"), content__isnull=False, occurred_at__gte=since, occurred_at__lt=until
    ).aggregate(views=Count("id"), used=Count("content", distinct=True))
    return {
        "content_views": views["views"],
        "content_used": views["used"],
        "content_assets": ContentAsset.objects.count(),
    }


# --- weekly trend ----------------------------------------------------------------------------


def week_starts(since: datetime, until: datetime) -> list[datetime]:
    """Mondays (UTC) of the weeks overlapping [since, until), at most the last MAX_WEEKS."""
    day = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - timedelta(days=day.weekday())
    starts = []
    while monday < until:
        starts.append(monday)
        monday += timedelta(weeks=1)
    return starts[-MAX_WEEKS:]


def weekly_trend(scope: Scope, since: datetime, until: datetime) -> dict:
    """Per week: MQLs, pipeline created and revenue won (clipped to the period)."""
    weeks = week_starts(since, until)
    bounds = [(max(w, since), min(w + timedelta(weeks=1), until)) for w in weeks]
    return {
        "weeks": [w.date().isoformat() for w in weeks],
        "mqls": _per_week(mql_leads(scope, since, until), "mql_at", bounds, Count("id")),
        "pipeline": _per_week(
            opportunities(scope), "created_at", bounds, Sum("amount"), money=True
        ),
        "revenue": _per_week(
            opportunities(scope).filter(stage=OpportunityStage.WON),
            "closed_at",
            bounds,
            Sum("amount"),
            money=True,
        ),
    }


def _per_week(queryset: QuerySet, field: str, bounds, aggregate, *, money=False) -> list:
    kind = type(aggregate)
    columns = {
        f"w{i}": kind(
            *aggregate.source_expressions, filter=Q(**{f"{field}__gte": a, f"{field}__lt": b})
        )
        for i, (a, b) in enumerate(bounds)
    }
    if not columns:
        return []
    row = queryset.order_by().aggregate(**columns)
    convert: Callable = float if money else int
    return [convert(row[f"w{i}"] or 0) for i in range(len(bounds))]


# --- drill-down ------------------------------------------------------------------------------

LEADS, OPPORTUNITIES = "leads", "opportunities"


def _opps(window: Callable, extra: Q | None = None) -> Callable:
    def records(scope: Scope, since: datetime, until: datetime) -> QuerySet:
        found = opportunities(scope).filter(window(since, until))
        return found.filter(extra) if extra is not None else found

    return records


def _closed(since: datetime, until: datetime) -> Q:
    ended = Q(stage__in=(OpportunityStage.WON, OpportunityStage.LOST))
    return ended & Q(closed_at__gte=since, closed_at__lt=until)


def _accepted_mqls(scope: Scope, since: datetime, until: datetime) -> QuerySet:
    return mql_leads(scope, since, until).filter(accepted_rule())


def _sla_leads(scope: Scope, since: datetime, until: datetime) -> QuerySet:
    return Lead.objects.filter(pk__in=sla_clocks(scope, since, until).values("lead_id"))


# figure -> (kind of record, the records behind it)
DRILLS: dict[str, tuple[str, Callable[[Scope, datetime, datetime], QuerySet]]] = {
    "pipeline": (OPPORTUNITIES, _opps(_created)),
    "sourced_pipeline": (OPPORTUNITIES, _opps(_created, Q(sourced=True))),
    "influenced_pipeline": (OPPORTUNITIES, _opps(_created, Q(influenced=True))),
    "revenue": (OPPORTUNITIES, _opps(_won)),
    "sourced_revenue": (OPPORTUNITIES, _opps(_won, Q(sourced=True))),
    "influenced_revenue": (OPPORTUNITIES, _opps(_won, Q(influenced=True))),
    "won": (OPPORTUNITIES, _opps(_won)),
    "win_rate": (OPPORTUNITIES, _opps(_closed)),
    "cycle_days": (OPPORTUNITIES, _opps(_won)),
    "cac": (OPPORTUNITIES, _opps(_won)),
    "mqls": (LEADS, mql_leads),
    "acceptance_rate": (LEADS, _accepted_mqls),
    "sla_hit_rate": (LEADS, _sla_leads),
}


def drill_down(figure: str, *, scope: Scope, since: datetime, until: datetime):
    """(kind, queryset) of the records behind `figure`; KeyError for an unknown figure."""
    kind, records = DRILLS[figure]
    return kind, records(scope, since, until)
