"""The funnel page: conversion and time in stage by a dimension, the trend by cohort month, a
chart of each, drill-downs into the leads list and a CSV export (`?format=csv`)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from closedloop.analytics.funnel import (
    STAGES,
    Dimension,
    FunnelReport,
    Group,
    drill_down_query,
    funnel_report,
)
from closedloop.core.models import Team, User
from closedloop.core.permissions import visible
from closedloop.crm.models import Lead, LifecycleStage
from closedloop.imports.exports import neutralise

DEFAULT_DAYS = 365
GROUPS_SHOWN = 50


class FunnelForm(forms.Form):
    """The page's filters (a GET form: it changes nothing)."""

    dimension = forms.ChoiceField(choices=Dimension.choices, required=False, label="By")
    since = forms.DateField(
        required=False, help_text="First creation day (UTC); default a year ago"
    )
    until = forms.DateField(required=False, help_text="Last creation day (UTC); default today")
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="All teams"
    )

    def clean(self):
        data = super().clean()
        data["until"] = data.get("until") or timezone.now().date()
        data["since"] = data.get("since") or data["until"] - timedelta(days=DEFAULT_DAYS)
        if data["since"] > data["until"]:
            self.add_error("since", "must be on or before the last day")
        data["dimension"] = data.get("dimension") or Dimension.SOURCE
        return data

    def period(self) -> tuple[datetime, datetime]:
        """[since, until] as a half-open UTC interval covering both whole days."""
        since = datetime.combine(self.cleaned_data["since"], time.min, tzinfo=UTC)
        until = datetime.combine(self.cleaned_data["until"], time.min, tzinfo=UTC)
        return since, until + timedelta(days=1)


def scoped_leads(user: User, team: Team | None) -> tuple[QuerySet, int | None]:
    """The leads whose numbers `user` sees (core.permissions: reps their team's, marketing,
    executives and admins everything), narrowed to `team` for those who see every team.
    Returns them and the team id the drill-down links must carry."""
    leads = visible(Lead.objects.all(), user)
    if team is not None and user.sees_all_leads:
        return leads.filter(owner__team_id=team.pk), team.pk
    return leads, None


@login_required
def funnel(request):
    """Conversion from each stage to the next and days in stage, for the leads created in the
    period that the user may see, by the chosen dimension."""
    form = FunnelForm(request.GET or {})
    if not request.user.sees_all_leads:
        del form.fields["team"]
    if not form.is_valid():
        return render(request, "analytics/funnel.html", {"form": form}, status=400)
    since, until = form.period()
    leads, team = scoped_leads(request.user, form.cleaned_data.get("team"))
    report = funnel_report(
        leads, dimension=form.cleaned_data["dimension"], since=since, until=until
    )
    if request.GET.get("format") == "csv":
        return report_as_csv(report)
    links = Links(report, team)
    return render(
        request,
        "analytics/funnel.html",
        {
            "form": form,
            "report": report,
            "dimension_label": Dimension(report.dimension).label,
            "stage_labels": [LifecycleStage(s).label for s in STAGES[1:]],
            "total": links.rows([report.total])[0] if report.total else None,
            "groups": links.rows(report.groups[:GROUPS_SHOWN]),
            "hidden_groups": max(0, len(report.groups) - GROUPS_SHOWN),
            "stage_chart": stage_chart(report),
            "trend_chart": trend_chart(report),
        },
    )


class Links:
    """Rows for the template: each step with the leads-list links behind its numbers."""

    def __init__(self, report: FunnelReport, team: int | None):
        self.report, self.team, self.leads_url = report, team, reverse("lead-list")

    def rows(self, groups: list[Group]) -> list[dict]:
        return [{"group": g, "steps": [self._step(g, s) for s in g.steps]} for g in groups]

    def _step(self, group: Group, step) -> dict:
        return {
            "step": step,
            "label": f"{LifecycleStage(step.stage).label} → "
            f"{LifecycleStage(step.next_stage).label}",
            "entered_url": self._url(group.key, step.stage),
            "converted_url": self._url(group.key, step.next_stage),
        }

    def _url(self, key: str, stage: str) -> str:
        query = drill_down_query(
            dimension=self.report.dimension,
            key=key,
            stage=stage,
            since=self.report.since,
            until=self.report.until,
            team=self.team,
        )
        return f"{self.leads_url}?{query}"


def stage_chart(report: FunnelReport) -> dict:
    """Chart.js `data`: leads that reached each stage, the whole scope."""
    if report.total is None:
        return {"labels": [], "datasets": []}
    reached = [s.entered for s in report.total.steps] + [report.total.steps[-1].converted]
    stages = [s.stage for s in report.total.steps] + [report.total.steps[-1].next_stage]
    return {
        "labels": [str(LifecycleStage(s).label) for s in stages],
        "datasets": [{"label": "Leads that reached the stage", "data": reached}],
    }


def trend_chart(report: FunnelReport) -> dict:
    """Chart.js `data`: conversion (%) of each step per cohort month, one line per step."""
    datasets = []
    for index, (stage, after) in enumerate(zip(STAGES, STAGES[1:], strict=False)):
        values = []
        for month in report.trend:
            step = next((s for s in month.steps if s.stage == stage), None)
            values.append(round(100 * step.conversion_rate, 1) if step else None)
        label = f"{LifecycleStage(stage).label} → {LifecycleStage(after).label}"
        datasets.append({"label": label, "data": values, "fill": False, "order": index})
    return {"labels": [g.key for g in report.trend], "datasets": datasets}


CSV_HEADER = [
    "group",
    "label",
    "stage",
    "next_stage",
    "entered",
    "converted",
    "conversion_rate",
    "median_days",
    "p90_days",
]


def report_as_csv(report: FunnelReport) -> HttpResponse:
    """Every group's steps (the whole scope first, as group "all") as CSV."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="funnel-{report.dimension}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    groups = ([report.total] if report.total else []) + report.groups
    for group in groups:
        for step in group.steps:
            writer.writerow(
                [
                    neutralise(group.key),
                    neutralise(group.label),
                    step.stage,
                    step.next_stage,
                    step.entered,
                    step.converted,
                    f"{step.conversion_rate:.6f}",
                    _days(step.median_days),
                    _days(step.p90_days),
                ]
            )
    return response


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
