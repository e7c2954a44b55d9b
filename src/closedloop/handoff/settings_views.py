"""Settings for the handoff (admins): rejection reasons, routing, working calendars."""

from __future__ import annotations

from datetime import date, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from closedloop.core.models import Role, Team, User
from closedloop.core.settings_views import require_admin
from closedloop.handoff import setup
from closedloop.handoff.models import (
    CapacityPeriod,
    RejectionPath,
    RejectionReason,
    RoutingMember,
    RoutingRule,
    TeamCalendar,
)
from closedloop.handoff.reasons import save_rejection_reason


@login_required
@require_http_methods(["GET", "POST"])
def reasons(request):
    require_admin(request.user)
    errors, form = {}, request.POST
    if request.method == "POST":
        pk = form.get("reason", "")
        existing = RejectionReason.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
        try:
            saved = save_rejection_reason(
                by=request.user,
                label=form.get("label", ""),
                path=form.get("path", ""),
                recycle_days=form.get("recycle_days", "90"),
                is_active=form.get("is_active") == "1",
                reason=existing,
            )
        except ValidationError as exc:
            errors = {field: problems[0] for field, problems in exc.message_dict.items()}
        else:
            messages.success(request, f"Reason “{saved.label}” saved.")
            return redirect("settings-reasons")
    context = {
        "tab": "reasons",
        "reasons": RejectionReason.objects.all(),
        "paths": RejectionPath.choices,
        "errors": errors,
        "form": form,
    }
    return render(request, "handoff/settings_reasons.html", context, status=422 if errors else 200)


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "message_dict"):
        return {field: problems[0] for field, problems in exc.message_dict.items()}
    return {"__all__": exc.messages[0]}


def _pk(raw: str, model):
    return model.objects.filter(pk=int(raw)).first() if (raw or "").isdigit() else None


@login_required
@require_http_methods(["GET", "POST"])
def routing(request):
    """Routing rules in order, and each rep's weight, capacity and away flag."""
    require_admin(request.user)
    errors, form = {}, request.POST
    if request.method == "POST":
        try:
            text = _save_routing(request)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, text)
            return redirect("settings-routing")
    sellers = User.objects.filter(role__in=(Role.REP, Role.MANAGER), is_active=True)
    members = {m.user_id: m for m in RoutingMember.objects.all()}
    context = {
        "tab": "routing",
        "rules": [(r, setup.conditions_text(r.conditions)) for r in RoutingRule.objects.all()],
        "reps": [(u, members.get(u.pk)) for u in sellers.select_related("team")],
        "teams": Team.objects.all(),
        "periods": CapacityPeriod.choices,
        "errors": errors,
        "form": form,
    }
    return render(request, "handoff/settings_routing.html", context, status=422 if errors else 200)


def _save_routing(request) -> str:
    form = request.POST
    if form.get("member"):
        user = _pk(form["member"], User)
        if user is None:
            raise ValidationError({"member": "no such rep"})
        setup.save_routing_member(
            user,
            by=request.user,
            weight=form.get("weight"),
            capacity=form.get("capacity"),
            period=form.get("period", ""),
            is_away=form.get("is_away") == "1",
        )
        return f"Routing for {user.display_name} saved."
    rule = setup.save_routing_rule(
        by=request.user,
        name=form.get("name", ""),
        position=form.get("position") or 0,
        conditions=form.get("conditions", ""),
        team=_pk(form.get("team", ""), Team),
        rep=_pk(form.get("rep", ""), User),
        is_active=form.get("is_active") == "1",
        rule=_pk(form.get("rule", ""), RoutingRule),
    )
    return f"Rule “{rule.name}” saved."


@login_required
@require_http_methods(["GET", "POST"])
def calendars(request):
    """Each team's working hours, days and holidays: the SLA clocks count only these."""
    require_admin(request.user)
    errors = {}
    if request.method == "POST":
        team = _pk(request.POST.get("team", ""), Team)
        try:
            if team is None:
                raise ValidationError({"team": "no such team"})
            setup.save_team_calendar(team, by=request.user, **_calendar_values(request.POST))
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"Working calendar of {team} saved.")
            return redirect("settings-calendars")
    stored = {c.team_id: c for c in TeamCalendar.objects.prefetch_related("holidays")}
    context = {
        "tab": "calendars",
        "teams": [(t, stored.get(t.pk)) for t in Team.objects.all()],
        "weekdays": list(enumerate(WEEKDAYS)),
        "errors": errors,
    }
    return render(
        request, "handoff/settings_calendars.html", context, status=422 if errors else 200
    )


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _calendar_values(form) -> dict:
    return {
        "work_start": _time(form.get("work_start", ""), "work_start"),
        "work_end": _time(form.get("work_end", ""), "work_end"),
        "workdays": [int(d) for d in form.getlist("workdays") if d.isdigit()],
        "holidays": [_day(d) for d in form.get("holidays", "").replace(",", " ").split()],
        "escalation_webhook_url": form.get("escalation_webhook_url", ""),
    }


def _time(raw: str, field: str) -> time:
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError({field: "expected a time as HH:MM"}) from None


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"holidays": f"{raw!r} is not a date (YYYY-MM-DD)"}) from None
