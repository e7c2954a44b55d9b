"""The lead page's actions (htmx): edit details, log work, tasks (and, in `qualify_views`,
qualify and open the opportunity). Each answers with the refreshed work panel; a plain form
post (no JavaScript) is redirected back to the lead."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from closedloop.core.permissions import visible
from closedloop.crm.models import (
    ActivityKind,
    ActivityOutcome,
    ContactRole,
    Lead,
    LifecycleStage,
    default_currency,
)
from closedloop.crm.services import StaleVersion
from closedloop.definitions.contract import criterion_label
from closedloop.definitions.services import contract_in_force
from closedloop.handoff import permissions, services, work
from closedloop.handoff.models import Task

RECENT_ACTIVITIES = 5

DEAL_FIELDS = ("name", "amount", "currency", "close_date", "role", "next_step")


def qualify_form(lead: Lead, posted=None) -> dict | None:
    """What the work panel's Qualify / Open-the-opportunity forms draw for `lead` (None when
    neither applies): the SQL rule's criteria with what was posted, and the deal's fields."""
    if lead.lifecycle_stage not in (LifecycleStage.SAL, LifecycleStage.SQL):
        return None
    posted = posted or {}
    rule = contract_in_force().sql_rule
    confirmed = set(posted.getlist("confirmed")) if hasattr(posted, "getlist") else set()
    return {
        "qualifying": lead.lifecycle_stage == LifecycleStage.SAL,
        "min_confirmed": rule.min_confirmed,
        "criteria": [
            {
                "name": name,
                "label": criterion_label(name),
                "confirmed": name in confirmed,
                "evidence": posted.get(f"evidence_{name}", ""),
            }
            for name in rule.requires
        ],
        "note": posted.get("note", ""),
        "open_deal": posted.get("open_deal") == "1" if posted else True,
        "deal": {f: posted.get(f"deal_{f}", "") for f in DEAL_FIELDS},
        "default_currency": default_currency(),
        "roles": ContactRole.choices,
    }


def _lead(request, pk: int) -> Lead:
    # A lead the user may not see is a 404, the same as one that does not exist.
    return get_object_or_404(visible(Lead.objects.select_related("owner"), request.user), pk=pk)


def workbench(user, lead: Lead, *, posted=None, **extra) -> dict:
    """The work panel's context (also used by the lead page's template tag); `posted` is a
    refused form's data, shown again."""
    try:
        permissions.check_can_work_lead(user, lead)
        can_work = True
    except PermissionDenied:
        can_work = False
    return {
        "lead": lead,
        "can_work": can_work,
        "can_edit": work.can_edit_details(user, lead),
        "fields": [
            (name, Lead._meta.get_field(name).verbose_name, getattr(lead, name))
            for name in work.EDITABLE_FIELDS
        ],
        "kinds": ActivityKind.choices,
        "outcomes": [c for c in ActivityOutcome.choices if c[0]],
        "tasks": list(Task.objects.filter(lead=lead).select_related("assignee")[:20]),
        "today": date.today(),
        "recent": list(lead.activities.select_related("rep")[:RECENT_ACTIVITIES]),
        "errors": {},
        "message": "",
        "qualify": qualify_form(lead, posted) if can_work else None,
        **extra,
    }


def _panel(request, lead: Lead, *, status: int = 200, **extra):
    if not request.htmx and status == 200:
        if extra.get("message"):
            messages.success(request, extra["message"])
        return redirect("lead-detail", pk=lead.pk)
    lead = Lead.objects.select_related("owner").get(pk=lead.pk)
    context = workbench(request.user, lead, **extra)
    return render(request, "handoff/_lead_work.html", context, status=status)


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "message_dict"):
        return {field: problems[0] for field, problems in exc.message_dict.items()}
    return {"__all__": exc.messages[0]}


@login_required
@require_POST
def edit_details(request, pk: int):
    lead = _lead(request, pk)
    version = request.POST.get("version", "")
    if not version.isdigit():
        return _panel(request, lead, status=422, errors={"version": "missing; reload the page"})
    try:
        work.edit_lead_details(
            lead, by=request.user, values=request.POST, expected_version=int(version)
        )
    except StaleVersion:
        message = "Someone saved this lead first: the form shows their version now."
        return _panel(request, lead, status=409, errors={"version": message})
    except ValidationError as exc:
        return _panel(request, lead, status=422, errors=_errors(exc))
    return _panel(request, lead, message="Details saved.")


def log_activity_from_form(request, lead: Lead) -> None:
    """Log the call, e-mail, meeting or note a form posted (inbox row and lead page alike).

    An unknown outcome is dropped rather than refused: the kind and notes are what matter.
    """
    outcome = request.POST.get("outcome", "")
    services.log_activity(
        lead,
        by=request.user,
        kind=request.POST.get("kind", ""),
        outcome=outcome if outcome in ActivityOutcome.values else "",
        notes=request.POST.get("notes", ""),
    )


@login_required
@require_POST
def log(request, pk: int):
    lead = _lead(request, pk)
    try:
        log_activity_from_form(request, lead)
    except ValidationError as exc:
        return _panel(request, lead, status=422, errors=_errors(exc))
    return _panel(request, lead, message="Logged.")


@login_required
@require_POST
def add_task(request, pk: int):
    lead = _lead(request, pk)
    errors: dict = {}
    due = _date(request.POST.get("due_on", ""), errors)
    if not errors:
        try:
            work.add_task(lead, by=request.user, title=request.POST.get("title", ""), due_on=due)
        except ValidationError as exc:
            errors = _errors(exc)
    if errors:
        return _panel(request, lead, status=422, errors=errors)
    return _panel(request, lead, message="Task added.")


@login_required
@require_POST
def complete_task(request, pk: int, task_id: int):
    lead = _lead(request, pk)
    task = get_object_or_404(Task.objects.select_related("lead__owner"), pk=task_id, lead=lead)
    work.complete_task(task, by=request.user)
    return _panel(request, lead, message=f"Done: {task.title}")


def _date(raw: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        errors["due_on"] = "expected a date as YYYY-MM-DD"
        return None
