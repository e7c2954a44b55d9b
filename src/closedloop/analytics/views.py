"""The attribution page: several models side by side on the same journeys, with a chart."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from closedloop.analytics.forms import MODEL_LABELS, AttributionForm
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
