"""What marketing sees: the library's usage report and one asset's usage, with charts and a
CSV of every table (`?format=csv&table=NAME`)."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from closedloop.content.models import ContentAsset
from closedloop.content.permissions import sees_all
from closedloop.content.services import usage
from closedloop.content.usage_models import ShareLink, UsageEvent, UsageKind
from closedloop.engagement.models import Touchpoint, TouchpointType
from closedloop.imports.exports import neutralise

CHART_ASSETS = 15
RECENT_ROWS = 200
ASSET_COLUMNS = (
    "id", "title", "status", "reps", "shares", "buyer_views", "rep_opens", "downloads",
    "presentations", "leads_touched", "opportunities_touched", "pipeline_influenced",
    "won_revenue_influenced", "lift_enough_data", "lift_deals_used", "lift_win_rate_used",
    "lift_win_rate_comparable", "lift", "lift_low", "lift_high", "days_since_last_use",
    "freshness", "review_days_left", "reason",
)  # fmt: skip


def _check_marketing(request) -> None:
    # Reps see the library, not marketing's report: for them the page does not exist.
    if not sees_all(request.user):
        raise Http404("no such page")


def csv_response(name: str, columns, rows) -> HttpResponse:
    """Rows (dicts) as a CSV download; text cells are neutralised against formula injection."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return response


def _cell(value):
    if value is None:
        return ""
    return neutralise(value) if isinstance(value, str) else value


@login_required
def library_report(request):
    _check_marketing(request)
    report = usage.library_report()
    rows = report.rows()
    summary = usage.library_summary(report)
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "bottom":
            return csv_response(
                "content-bottom", ("id", "title", "reason", "why", "lift"), summary["bottom"]
            )
        return csv_response("content-assets", ASSET_COLUMNS, rows)
    context = {
        "summary": summary,
        "rows": sorted(rows, key=lambda r: -r["pipeline_influenced"]),
        "influence_chart": _influence_chart(rows),
        "lift_chart": _lift_chart(rows),
    }
    return render(request, "content/report.html", context)


def _influence_chart(rows: list[dict]) -> dict:
    top = sorted(rows, key=lambda r: -r["pipeline_influenced"])[:CHART_ASSETS]
    return {
        "labels": [r["title"][:40] for r in top],
        "datasets": [
            {"label": "Pipeline influenced", "data": [r["pipeline_influenced"] for r in top]},
            {"label": "Won revenue influenced", "data": [r["won_revenue_influenced"] for r in top]},
        ],
    }


def _lift_chart(rows: list[dict]) -> dict:
    measured = sorted((r for r in rows if r["lift_enough_data"]), key=lambda r: -r["lift"])
    return {
        "labels": [r["title"][:40] for r in measured],
        "datasets": [
            {
                "label": "Win-rate lift (points)",
                "data": [round(100 * r["lift"], 1) for r in measured],
            }
        ],
    }


@login_required
def asset_usage(request, pk: int):
    _check_marketing(request)
    asset = get_object_or_404(ContentAsset, pk=pk)
    tables = {
        "reps": _reps_table(asset),
        "links": _links_table(asset),
        "views": _views_table(asset),
    }
    wanted = request.GET.get("table", "")
    if request.GET.get("format") == "csv" and wanted in tables:
        rows = tables[wanted]
        columns = list(rows[0]) if rows else ["none"]
        return csv_response(f"asset-{asset.pk}-{wanted}", columns, rows)
    report = usage.library_report()
    row = usage.asset_row(report, asset.pk)
    if request.GET.get("format") == "csv":
        return csv_response(f"asset-{asset.pk}", ASSET_COLUMNS, [row])
    context = {"asset": asset, "row": row, **tables, "month_chart": _month_chart(asset)}
    return render(request, "content/asset_usage.html", context)


def _reps_table(asset: ContentAsset) -> list[dict]:
    counts = {k.value: Count("pk", filter=Q(kind=k.value)) for k in UsageKind}
    rows = (
        UsageEvent.objects.filter(asset=asset, user__isnull=False)
        .values("user__first_name", "user__last_name", "user__email")
        .annotate(**counts, last=Max("at"))
        .order_by("-last")
    )
    return [
        {
            "rep": f"{r['user__first_name']} {r['user__last_name']}".strip() or r["user__email"],
            **{k.value: r[k.value] for k in UsageKind},  # type: ignore[literal-required]
            "last_use": r["last"].isoformat(timespec="minutes"),
        }
        for r in rows
    ]


def _links_table(asset: ContentAsset) -> list[dict]:
    links = ShareLink.objects.filter(asset=asset).select_related("lead", "created_by")
    return [
        {
            "lead": str(link.lead),
            "rep": str(link.created_by or ""),
            "sent": link.created_at.isoformat(timespec="minutes"),
            "views": link.views,
            "last_view": link.last_viewed_at.isoformat(timespec="minutes")
            if link.last_viewed_at
            else "",
            "state": link.state(),
        }
        for link in links[:RECENT_ROWS]
    ]


def _views_table(asset: ContentAsset) -> list[dict]:
    views = Touchpoint.objects.filter(
        content=asset, type=TouchpointType.CONTENT_VIEW, lead__isnull=False
    ).select_related("lead")
    return [
        {
            "lead": str(t.lead),
            "at": t.occurred_at.isoformat(timespec="minutes"),
            "through": "shared link"
            if "share_link" in (t.properties or {})
            else t.channel or "web",
        }
        for t in views[:RECENT_ROWS]
    ]


def _month_chart(asset: ContentAsset) -> dict:
    """Shares and buyer views per month, the last 12 months with any."""
    from django.db.models.functions import TruncMonth

    def per_month(queryset, field):
        return dict(
            queryset.annotate(month=TruncMonth(field))
            .values("month")
            .annotate(n=Count("pk"))
            .values_list("month", "n")
        )

    shares = per_month(UsageEvent.objects.filter(asset=asset, kind=UsageKind.SHARE), "at")
    views = per_month(
        Touchpoint.objects.filter(content=asset, type=TouchpointType.CONTENT_VIEW), "occurred_at"
    )
    months = sorted(set(shares) | set(views))[-12:]
    return {
        "labels": [m.strftime("%b %Y") for m in months],
        "datasets": [
            {"label": "Shares", "data": [shares.get(m, 0) for m in months]},
            {"label": "Buyer views", "data": [views.get(m, 0) for m in months]},
        ],
    }
