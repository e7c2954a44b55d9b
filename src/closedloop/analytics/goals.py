"""Revenue goals: drafted, agreed by one marketing and one sales signer (the definitions'
signer setting, decision 0016), planned backwards and paced.

A goal covers whole months from `starts_on` for the company or one team. Its plan is the
reverse waterfall of the scope's measured history (`history.measured_history`, stored in the
scoreboard snapshot); its pacing compares the scoreboard's weekly revenue with the goal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from closedloop.analytics.engine import planning
from closedloop.analytics.models import Goal, GoalSignoff, GoalStatus
from closedloop.analytics.scope import Scope
from closedloop.core.models import Role, Team, User
from closedloop.definitions.models import Side
from closedloop.definitions.services import signing_side

MAX_MONTHS = 12
DRAFTERS = (Role.ADMIN, Role.MARKETING, Role.MANAGER, Role.EXECUTIVE)


class GoalInvalid(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


class GoalStateError(Exception):
    """The goal is not in a state that allows this (signing an agreed goal, signing twice)."""


def can_draft_goal(user: User) -> bool:
    return user.role in DRAFTERS


def month_end(start: date, months: int) -> date:
    """The first day after `months` whole months from `start`."""
    index = start.month - 1 + months
    return date(start.year + index // 12, index % 12 + 1, 1)


def goal_period(goal: Goal) -> tuple[datetime, datetime]:
    first = goal.starts_on
    end = month_end(first, goal.months)
    return (
        datetime(first.year, first.month, 1, tzinfo=UTC),
        datetime(end.year, end.month, 1, tzinfo=UTC),
    )


def create_goal(
    *,
    by: User,
    amount: Any,
    starts_on: date,
    months: int = 3,
    team: Team | None = None,
    note: str = "",
) -> Goal:
    """A draft goal; marketing, managers, executives and admins propose goals."""
    if not can_draft_goal(by):
        raise PermissionDenied("goals are proposed by marketing, managers, executives, admins")
    if by.role == Role.MANAGER and (team is None or team.pk != by.team_id):
        raise PermissionDenied("a manager proposes goals for their own team")
    value = _amount(amount)
    if not isinstance(starts_on, date):
        raise GoalInvalid("starts_on", "is required")
    if not 1 <= int(months) <= MAX_MONTHS:
        raise GoalInvalid("months", f"must be between 1 and {MAX_MONTHS}")
    return Goal.objects.create(
        team=team,
        starts_on=starts_on.replace(day=1),
        months=int(months),
        amount=value,
        note=(note or "").strip(),
        author=by,
        created_at=timezone.now(),
    )


def _amount(amount: Any) -> Decimal:
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise GoalInvalid("amount", "must be a number") from None
    if not value.is_finite() or value <= 0 or value >= Decimal("1e14"):
        raise GoalInvalid("amount", "must be positive")
    return value


@transaction.atomic
def sign_goal(goal: Goal, *, by: User) -> GoalSignoff:
    """`by` signs the draft for their side; the second side's signature puts it in force and
    supersedes the agreed goal of the same team and start, if any."""
    side = signing_side(by)
    if side is None:
        raise PermissionDenied(f"{by.get_role_display()} users sign for no team")
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if goal.status != GoalStatus.DRAFT:
        raise GoalStateError(
            f"this goal is {goal.get_status_display().lower()}; only a draft is signed"
        )
    signed = {s.side: s for s in goal.signoffs.all()}
    if any(s.user_id == by.pk for s in signed.values()):
        raise GoalStateError("you already signed this goal; the other side signs it")
    if side in signed:
        raise GoalStateError(f"the {side.label.lower()} side is already signed")
    signoff = GoalSignoff.objects.create(goal=goal, side=side, user=by, signed_at=timezone.now())
    if len(signed) + 1 == len(Side.values):
        _activate(goal)
    return signoff


def _activate(goal: Goal) -> None:
    Goal.objects.filter(status=GoalStatus.ACTIVE, team=goal.team, starts_on=goal.starts_on).update(
        status=GoalStatus.SUPERSEDED
    )
    goal.status, goal.activated_at = GoalStatus.ACTIVE, timezone.now()
    goal.save(update_fields=["status", "activated_at"])


def withdraw_goal(goal: Goal, *, by: User) -> Goal:
    """The author or an admin withdraws a draft (it stays in the history)."""
    if goal.status != GoalStatus.DRAFT:
        raise GoalStateError("only a draft can be withdrawn")
    if by.role != Role.ADMIN and goal.author_id != by.pk:
        raise PermissionDenied("the author or an admin withdraws a draft")
    goal.status = GoalStatus.WITHDRAWN
    goal.save(update_fields=["status"])
    return goal


def goals_for(scope: Scope):
    """The goals of the scope (team goals for a team, company goals for the company)."""
    if scope.team_id is not None:
        return Goal.objects.filter(team_id=scope.team_id)
    return Goal.objects.filter(team__isnull=True)


def agreed_goal(scope: Scope, since: datetime, until: datetime) -> Goal | None:
    """The agreed goal of the scope whose period overlaps [since, until) the most."""
    best, overlap = None, timedelta(0)
    for goal in goals_for(scope).filter(status=GoalStatus.ACTIVE):
        start, end = goal_period(goal)
        shared = min(end, until) - max(start, since)
        if shared > overlap:
            best, overlap = goal, shared
    return best


# --- plan and pacing -------------------------------------------------------------------------


def plan(goal: Goal, history: dict) -> dict | None:
    """The goal's reverse waterfall from the measured history; None without a deal size."""
    size = history.get("deal_size")
    if not size:
        return None
    stages = planning.measured_stages(history["reached"], history["lag_days"])
    waterfall = planning.plan_goal(
        amount=float(goal.amount), months=goal.months, average_deal_size=size, stages=stages
    )
    first = goal.starts_on
    return {
        "months": [_month_label(first, offset) for offset in waterfall.months],
        "needed": {
            name: [round(v, 1) for v in values] for name, values in waterfall.needed.items()
        },
        "totals": {name: round(v, 1) for name, v in waterfall.totals().items()},
        "deliverables": planning.deliverables(waterfall),
        "stages": [(s.name, s.conversion_rate, s.lag_months) for s in stages],
        "deal_size": size,
    }


def _month_label(first: date, offset: int) -> str:
    index = first.month - 1 + offset
    return f"{first.year + index // 12:04d}-{index % 12 + 1:02d}"


def lead_to_won(history: dict) -> float | None:
    reached = history.get("reached", {})
    return reached["won"] / reached["lead"] if reached.get("lead") and reached.get("won") else None


def with_goal(data: dict, *, scope: Scope, since: datetime, until: datetime) -> dict:
    """The snapshot with the agreed goal pro-rated to the period and its pacing (one query)."""
    goal = agreed_goal(scope, since, until)
    if goal is None:
        return data
    start, end = goal_period(goal)
    shared = (min(end, until) - max(start, since)).total_seconds()
    target = float(goal.amount) * shared / (end - start).total_seconds()
    figures = {**data["figures"], "revenue_goal": target}
    return {**data, "figures": figures, "goal": goal, "pacing": _pacing(data, target, since, until)}


def _pacing(data: dict, target: float, since: datetime, until: datetime):
    weeks = [datetime.fromisoformat(w).replace(tzinfo=UTC) for w in data["weekly"]["weeks"]]
    days = [
        (min(w + timedelta(weeks=1), until) - max(w, since)).total_seconds() / 86_400 for w in weeks
    ]
    now = min(max(timezone.now(), since), until)
    history = data.get("history", {})
    return planning.pace(
        goal=target,
        week_days=days,
        weekly_revenue=data["weekly"]["revenue"],
        elapsed_days=(now - since).total_seconds() / 86_400,
        average_deal_size=history.get("deal_size") or 0.0,
        lead_to_won=lead_to_won(history),
    )
