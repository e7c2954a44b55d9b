"""The attribution page (several models side by side on the same journeys, with a chart) and
the campaign ROI page (unit costs and attributed revenue ÷ cost per campaign and model)."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from closedloop.analytics import roi
from closedloop.analytics.engine import roi as roi_engine
from closedloop.analytics.forms import MODEL_LABELS, AttributionForm, PeriodForm
from closedloop.analytics.scope import scope_for
from closedloop.analytics.services import compare_models, load_journeys
from closedloop.imports.exports import neutralise

DISAGREEMENTS_SHOWN = 3


@login_required
def attribution(request):
    """Credits per channel, campaign or content for each chosen model (role-scoped data)."""
    # Unbound, a form has no cleaned data: an empty query is read as all defaults.
    form = AttributionForm(request.GET or {})
    if not form.is_valid():
        return render(request, "analytics/attribution.html", {"form": form}, status=400)
    since, until = form.period()
    data = form.cleaned_data
    loaded = load_journeys(
        user=request.user,
        outcome=data["outcome"],
        dimension=data["dimension"],
        since=since,
        until=until,
    )
    credits = compare_models(loaded=loaded, models_wanted=data["models"])
    table = comparison_table(credits)
    if request.GET.get("format") == "csv":
        return table_as_csv(table, list(credits))
    return render(
        request,
        "analytics/attribution.html",
        {
            "form": form,
            "loaded": loaded,
            "models": [(name, MODEL_LABELS[name]) for name in credits],
            "table": table,
            "disagreements": most_disputed(table, DISAGREEMENTS_SHOWN),
            "chart_data": chart_data(table, list(credits)),
        },
    )


def comparison_table(credits: dict) -> list[dict]:
    """One row per label: its conversions and value under each model, largest first."""
    labels: dict[str, dict] = {}
    for model, result in credits.items():
        for label, figures in result.as_dict().items():
            row = labels.setdefault(label, {"label": label, "by_model": {}})
            row["by_model"][model] = figures
    rows = list(labels.values())
    for row in rows:
        values = [f["conversions"] for f in row["by_model"].values()]
        row["cells"] = [row["by_model"].get(m, {"conversions": 0, "value": 0}) for m in credits]
        row["spread"] = max(values) - min(values)
    return sorted(
        rows, key=lambda row: (-max(c["conversions"] for c in row["cells"]), row["label"])
    )


def most_disputed(table: list[dict], count: int) -> list[dict]:
    """The labels whose credit differs most between models (largest max - min), if any."""
    disputed = [row for row in table if row["spread"] > 1e-9]
    return sorted(disputed, key=lambda row: -row["spread"])[:count]


def chart_data(table: list[dict], models: list[str]) -> dict:
    """Chart.js `data`: labels on the x axis, one bar dataset of conversions per model."""
    return {
        "labels": [row["label"] for row in table],
        "datasets": [
            {
                "label": MODEL_LABELS[model],
                "data": [round(row["cells"][i]["conversions"], 3) for row in table],
            }
            for i, model in enumerate(models)
        ],
    }


def table_as_csv(table: list[dict], models: list[str]) -> HttpResponse:
    """The comparison table as CSV: label, then conversions and value under each model."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="attribution.csv"'
    writer = csv.writer(response)
    header = ["label"]
    for model in models:
        header += [f"{model}_conversions", f"{model}_value"]
    writer.writerow(header)
    for row in table:
        cells = [neutralise(row["label"])]
        for cell in row["cells"]:
            cells += [f"{cell['conversions']:.6f}", f"{cell['value']:.2f}"]
        writer.writerow(cells)
    return response


ROI_COLUMNS = (
    ("cost", "Cost"),
    ("leads", "Leads"),
    ("mqls", "MQLs"),
    ("sqls", "SQLs"),
    ("opportunities", "Opportunities"),
    ("won", "Won"),
    ("cost_per_lead", "Cost per lead"),
    ("cost_per_mql", "Cost per MQL"),
    ("cost_per_sql", "Cost per SQL"),
    ("cost_per_opportunity", "Cost per opportunity"),
    ("cac", "CAC"),
)


@login_required
def campaign_roi(request):
    """Cost, sourced volumes, unit costs and attributed revenue ÷ cost per campaign and model."""
    form = PeriodForm(request.GET or {}, user=request.user)
    if not form.is_valid():
        return render(request, "analytics/roi.html", {"form": form}, status=400)
    since, until = form.bounds()
    scope = scope_for(request.user, team_id=form.cleaned_data["team"])
    report = roi.campaign_roi(scope=scope, since=since, until=until)
    rows = [roi_row(figures, report.models) for figures in [*report.campaigns, report.total]]
    if request.GET.get("format") == "csv":
        return roi_csv(rows, report.models)
    disputed = roi_engine.most_disputed(report.campaigns, report.models, DISAGREEMENTS_SHOWN)
    return render(
        request,
        "analytics/roi.html",
        {
            "form": form,
            "report": report,
            "scope_label": scope.label(),
            "columns": ROI_COLUMNS,
            "models": [(name, MODEL_LABELS[name]) for name in report.models],
            "rows": rows,
            "disputed": disputed,
            "chart_data": roi_chart(rows[:-1], report.models),
        },
    )


def roi_row(figures, models) -> dict:
    """One table row: the campaign's figures, unit costs and per-model revenue and ROI."""
    values = {
        "cost": figures.cost,
        "leads": figures.leads,
        "mqls": figures.mqls,
        "sqls": figures.sqls,
        "opportunities": figures.opportunities,
        "won": figures.won,
        **roi_engine.unit_costs(figures),
    }
    returns = roi_engine.return_on_cost(figures)
    return {
        "name": figures.name,
        "cells": [values[key] for key, _ in ROI_COLUMNS],
        "by_model": [
            (figures.revenue_by_model.get(m, 0.0), returns.get(m) if figures.cost else None)
            for m in models
        ],
    }


def roi_chart(rows: list[dict], models) -> dict:
    """Chart.js data: attributed revenue ÷ cost per campaign (the 12 costliest) and model."""
    costly = sorted(rows, key=lambda row: -row["cells"][0])[:12]
    return {
        "labels": [row["name"] for row in costly],
        "datasets": [
            {
                "label": MODEL_LABELS[model],
                "data": [round(row["by_model"][i][1] or 0.0, 3) for row in costly],
            }
            for i, model in enumerate(models)
        ],
    }


def roi_csv(rows: list[dict], models) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="campaign-roi.csv"'
    writer = csv.writer(response)
    header = ["campaign", *(key for key, _ in ROI_COLUMNS)]
    for model in models:
        header += [f"{model}_revenue", f"{model}_roi"]
    writer.writerow(header)
    for row in rows:
        cells = [neutralise(row["name"]), *(_number(v) for v in row["cells"])]
        for revenue, ratio in row["by_model"]:
            cells += [_number(revenue), _number(ratio)]
        writer.writerow(cells)
    return response


def _number(value) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.4f}"
