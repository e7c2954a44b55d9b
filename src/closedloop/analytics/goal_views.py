"""Goal pages: the list, a new draft, one goal with its plan and sign-offs."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from closedloop.analytics import goals, snapshots
from closedloop.analytics.models import Goal
from closedloop.analytics.scope import Scope
from closedloop.core.models import Team
from closedloop.definitions.services import signing_side


class GoalForm(forms.Form):
    amount = forms.DecimalField(min_value=1, max_digits=16, decimal_places=2, label="Revenue goal")
    starts_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="Its month is the first month"
    )
    months = forms.IntegerField(min_value=1, max_value=goals.MAX_MONTHS, initial=3)
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="Whole company"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


def visible_goals(user):
    if user.sees_all_leads:
        return Goal.objects.all()
    return Goal.objects.filter(Q(team__isnull=True) | Q(team_id=user.team_id))


def _goal(user, pk: int) -> Goal:
    goal = visible_goals(user).select_related("team", "author").filter(pk=pk).first()
    if goal is None:
        raise Http404("no such goal")
    return goal


@login_required
def goal_list(request):
    context = {
        "goals": visible_goals(request.user).select_related("team", "author"),
        "can_draft": goals.can_draft_goal(request.user),
    }
    return render(request, "analytics/goals.html", context)


@login_required
def goal_new(request):
    if not goals.can_draft_goal(request.user):
        raise PermissionDenied("goals are proposed by marketing, managers, executives, admins")
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            goal = goals.create_goal(by=request.user, **form.cleaned_data)
        except goals.GoalInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.problem)
        else:
            messages.success(request, "Goal drafted. One marketing and one sales signer agree it.")
            return redirect("analytics-goal", pk=goal.pk)
    return render(
        request, "analytics/goal_new.html", {"form": form}, status=422 if form.errors else 200
    )


@login_required
def goal_detail(request, pk: int):
    """The goal, its sign-offs, its plan (from the scope's measured history) and pacing."""
    goal = _goal(request.user, pk)
    scope = Scope(team_id=goal.team_id)
    since, until = goals.goal_period(goal)
    data = snapshots.read_snapshot(scope, snapshots.Period(since, until))
    plan = goals.plan(goal, data["history"]) if data else None
    paced = goals.with_goal(data, scope=scope, since=since, until=until) if data else None
    side = signing_side(request.user)
    signed = {s.side: s for s in goal.signoffs.select_related("user")}
    context = {
        "goal": goal,
        "plan": plan,
        "plan_rows": _plan_rows(plan) if plan else [],
        "pacing": paced.get("pacing") if paced else None,
        "pacing_rows": _pacing_rows(paced) if paced and paced.get("pacing") else [],
        "computing": data is None,
        "signoffs": list(signed.values()),
        "can_sign": goal.status == "draft"
        and side is not None
        and side not in signed
        and all(s.user_id != request.user.pk for s in signed.values()),
        "can_withdraw": goal.status == "draft"
        and (request.user.role == "admin" or goal.author_id == request.user.pk),
    }
    return render(request, "analytics/goal.html", context)


def _plan_rows(plan: dict) -> list[tuple[str, list[float], float]]:
    labels = {
        "lead": "Leads",
        "mql": "MQLs",
        "sql": "SQLs",
        "opportunity": "Opportunities",
        "won": "Won deals",
    }
    return [(labels.get(n, n), values, plan["totals"][n]) for n, values in plan["needed"].items()]


def _pacing_rows(paced: dict) -> list[tuple[str, float, float]]:
    """Week by week: the week's Monday, cumulative plan and cumulative won revenue."""
    pacing = paced["pacing"]
    return list(zip(paced["weekly"]["weeks"], pacing.plan, pacing.actual, strict=True))


@login_required
@require_POST
def goal_sign(request, pk: int):
    goal = _goal(request.user, pk)
    try:
        goals.sign_goal(goal, by=request.user)
    except goals.GoalStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Signed.")
    return redirect("analytics-goal", pk=pk)


@login_required
@require_POST
def goal_withdraw(request, pk: int):
    goal = _goal(request.user, pk)
    try:
        goals.withdraw_goal(goal, by=request.user)
    except goals.GoalStateError as exc:
        messages.error(request, str(exc))
    return redirect("analytics-goal", pk=pk)
