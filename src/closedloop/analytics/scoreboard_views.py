"""The scoreboard page (the figures both teams open first), its drill-downs and CSV exports.

Pages read snapshots only (`analytics.snapshots`): a missing one is queued for the worker and
the page polls until it is there. Reps and managers see their team's numbers; marketing,
executives and admins the company's or any team's (`analytics.scope.scope_for`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from closedloop.analytics import goals, scoreboard, snapshots
from closedloop.analytics.forms import ScoreboardForm
from closedloop.analytics.scope import Scope, scope_for
from closedloop.imports.exports import neutralise

DRILL_LIMIT = 500


@dataclass(frozen=True)
class TileSpec:
    key: str
    label: str
    unit: str  # money, count, percent, days
    hint: str
    target: str = ""  # figure holding the target, if any
    side: str = ""  # marketing, sales, both


TILES = (
    TileSpec(
        "sourced_pipeline",
        "Marketing-sourced pipeline",
        "money",
        "Opportunities created in the period from a marketing source or campaign",
        side="marketing",
    ),
    TileSpec(
        "influenced_pipeline",
        "Marketing-influenced pipeline",
        "money",
        "Opportunities created whose contacts had a marketing touch before",
        side="marketing",
    ),
    TileSpec(
        "sourced_revenue",
        "Marketing-sourced revenue",
        "money",
        "Won in the period, marketing-sourced",
        side="marketing",
    ),
    TileSpec(
        "influenced_revenue",
        "Marketing-influenced revenue",
        "money",
        "Won in the period, marketing-influenced",
        side="marketing",
    ),
    TileSpec(
        "mqls",
        "MQLs delivered",
        "count",
        "Leads that became MQL in the period, against the SLA promise",
        target="mql_promise",
        side="marketing",
    ),
    TileSpec(
        "acceptance_rate",
        "MQL → SAL acceptance",
        "percent",
        "Share of the period's MQLs a rep accepted, against the SLA floor",
        target="acceptance_floor",
        side="sales",
    ),
    TileSpec(
        "sla_hit_rate",
        "SLA hit rate",
        "percent",
        "Sales clocks first touched by their deadline",
        side="sales",
    ),
    TileSpec(
        "win_rate", "Win rate", "percent", "Won ÷ (won + lost), closed in the period", side="sales"
    ),
    TileSpec(
        "cycle_days", "Sales cycle", "days", "Median days from opportunity to win", side="sales"
    ),
    TileSpec(
        "cac",
        "CAC",
        "money",
        "Campaign cost of the period ÷ won deals (whole company)",
        side="both",
    ),
    TileSpec(
        "revenue",
        "Revenue",
        "money",
        "Won in the period, against the agreed goal",
        target="revenue_goal",
        side="both",
    ),
)


def shown(value, unit: str) -> str:
    """A figure as a tile shows it: money and counts whole, rates in percent, days to 0.1."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{100 * value:.1f}%"
    if unit == "days":
        return f"{value:.1f} d"
    if unit == "money" and abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.2f} M"
    if unit == "money" and abs(value) >= 10_000:
        return f"{value / 1_000:,.1f} k"
    return f"{value:,.0f}"


def _tiles(figures: dict) -> list[dict]:
    tiles = []
    for spec in TILES:
        value = figures.get(spec.key)
        target = figures.get(spec.target) if spec.target else None
        meter = 100 * value / target if value is not None and target else None
        tiles.append(
            {
                "spec": spec,
                "value": shown(value, spec.unit),
                "target": shown(target, spec.unit) if target is not None else "",
                "meter": meter,
                "met": meter is not None and meter >= 100,
                "drill": spec.key in scoreboard.DRILLS,
            }
        )
    return tiles


def _filters(request):
    form = ScoreboardForm(request.GET or {}, user=request.user)
    if not form.is_valid():
        return form, None, None
    data = form.cleaned_data
    if data["period"] == "custom":
        period = snapshots.Period(*form.bounds())
    else:
        period = snapshots.standard_periods()[data["period"]]
    return form, scope_for(request.user, team_id=data["team"]), period


@login_required
def scoreboard_page(request):
    """The scoreboard for the chosen period and team (a snapshot; polls while one computes)."""
    form, scope, period = _filters(request)
    if scope is None:
        return render(request, "analytics/scoreboard.html", {"form": form}, status=400)
    data = snapshots.read_snapshot(scope, period)
    if data is not None:
        data = goals.with_goal(data, scope=scope, since=period.since, until=period.until)
    fmt = request.GET.get("format")
    if data is not None and fmt == "csv":
        return _csv(data, request.GET.get("table", "figures"))
    context = {
        "form": form,
        "scope": scope,
        "scope_label": scope.label(),
        "period": period,
        "data": data,
        "tiles": _tiles(data["figures"]) if data else [],
        "weekly_rows": _weekly_rows(data) if data else [],
        "charts": _charts(data) if data else {},
        "query": request.GET.urlencode(),
    }
    template = "analytics/_scoreboard_body.html" if request.htmx else "analytics/scoreboard.html"
    return render(request, template, context)


def _weekly_rows(data: dict) -> list[tuple]:
    weekly = data["weekly"]
    return list(
        zip(weekly["weeks"], weekly["mqls"], weekly["pipeline"], weekly["revenue"], strict=True)
    )


def _charts(data: dict) -> dict:
    weekly = data["weekly"]
    return {
        "mqls": {
            "labels": weekly["weeks"],
            "datasets": [{"label": "MQLs", "data": weekly["mqls"]}],
        },
        "money": {
            "labels": weekly["weeks"],
            "datasets": [
                {"label": "Pipeline created", "data": weekly["pipeline"]},
                {"label": "Revenue won", "data": weekly["revenue"]},
            ],
        },
    }


def _csv(data: dict, table: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="scoreboard-{table}.csv"'
    writer = csv.writer(response)
    if table == "weekly":
        writer.writerow(["week", "mqls", "pipeline", "revenue"])
        writer.writerows(_weekly_rows(data))
        return response
    writer.writerow(["figure", "value"])
    for key, value in data["figures"].items():
        writer.writerow([key, "" if value is None else value])
    return response


@login_required
def scoreboard_drill(request, figure: str):
    """The leads or opportunities behind one scoreboard figure (first 500; CSV: all)."""
    if figure not in scoreboard.DRILLS:
        raise Http404("no such figure")
    form, scope, period = _filters(request)
    if scope is None:
        return render(request, "analytics/drill.html", {"form": form}, status=400)
    kind, records = scoreboard.drill_down(
        figure, scope=scope, since=period.since, until=period.until
    )
    records = _shaped(kind, records)
    if request.GET.get("format") == "csv":
        return _drill_csv(kind, figure, records)
    spec = next((t for t in TILES if t.key == figure), None)
    context = {
        "figure": figure,
        "label": spec.label if spec else figure,
        "kind": kind,
        "records": records[:DRILL_LIMIT],
        "count": records.count(),
        "limit": DRILL_LIMIT,
        "scope_label": scope.label(),
        "period": period,
        "query": request.GET.urlencode(),
    }
    return render(request, "analytics/drill.html", context)


def _shaped(kind: str, records):
    if kind == scoreboard.LEADS:
        return records.select_related("owner").order_by("-mql_at", "-id")
    return records.select_related("owner", "account").order_by("-created_at", "-id")


def _drill_csv(kind: str, figure: str, records) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="scoreboard-{figure}.csv"'
    writer = csv.writer(response)
    if kind == scoreboard.LEADS:
        writer.writerow(["id", "name", "email", "company", "stage", "owner", "mql_at"])
        for lead in records.iterator():
            writer.writerow(
                [
                    lead.pk,
                    *(neutralise(v) for v in (str(lead), lead.email, lead.company)),
                    lead.lifecycle_stage,
                    neutralise(str(lead.owner or "")),
                    lead.mql_at.isoformat() if lead.mql_at else "",
                ]
            )
        return response
    writer.writerow(
        ["id", "name", "account", "amount", "stage", "owner", "created_at", "closed_at"]
    )
    for opp in records.iterator():
        writer.writerow(
            [
                opp.pk,
                neutralise(opp.name),
                neutralise(opp.account.name),
                opp.amount,
                opp.stage,
                neutralise(str(opp.owner or "")),
                opp.created_at.isoformat(),
                opp.closed_at.isoformat() if opp.closed_at else "",
            ]
        )
    return response


def figures_for(scope: Scope, period) -> dict | None:
    """The API's reading of a snapshot (with the goal), or None while it is computed."""
    data = snapshots.read_snapshot(scope, period)
    return (
        goals.with_goal(data, scope=scope, since=period.since, until=period.until) if data else None
    )
