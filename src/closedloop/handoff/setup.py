"""Settings for the handoff, changed by admins: routing rules, each rep's routing weight and
capacity, and each team's working calendar. Rules and calendars are `Audited` models; member
changes are recorded with `record_change`.

A rule's conditions are written one per line as `field op value`, e.g. `country in US, CA` or
`employees gte 200` (ops: see engine.Op; `in` takes a comma-separated list; numbers are read
as numbers).
"""

from __future__ import annotations

from datetime import date, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from closedloop.core.audit import record_change
from closedloop.core.models import AuditAction, Role, Team, User
from closedloop.crm.models import Lead
from closedloop.handoff.engine import Op
from closedloop.handoff.models import (
    CapacityPeriod,
    Holiday,
    RoutingMember,
    RoutingRule,
    TeamCalendar,
)

MAX_WEIGHT = 10


def _require_admin(by: User) -> None:
    if by.role != Role.ADMIN:
        raise PermissionDenied("only admins change routing and calendars")


def parse_conditions(text: str) -> list[dict]:
    """[{"field", "op", "value"}] from lines of `field op value`; ValidationError names the line."""
    fields = {f.name for f in Lead._meta.concrete_fields}
    conditions = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if line.strip():
            conditions.append(_condition(line.strip(), number, fields))
    return conditions


def _condition(line: str, number: int, fields: set[str]) -> dict:
    parts = line.split(None, 2)
    if len(parts) < 3:
        raise ValidationError({"conditions": f"line {number}: write `field op value`"})
    field, op, raw = parts
    if field not in fields:
        raise ValidationError({"conditions": f"line {number}: {field!r} is not a lead field"})
    if op not in Op.__members__.values():
        ops = ", ".join(o.value for o in Op)
        raise ValidationError({"conditions": f"line {number}: {op!r} is not one of {ops}"})
    if op == Op.IN:
        return {"field": field, "op": op, "value": [_value(v) for v in raw.split(",") if v.strip()]}
    return {"field": field, "op": op, "value": _value(raw)}


def _value(raw: str):
    raw = raw.strip()
    try:
        return int(raw.replace(",", ""))
    except ValueError:
        return raw


def conditions_text(conditions: list[dict]) -> str:
    """The inverse of parse_conditions, for the form."""
    lines = []
    for c in conditions or []:
        value = ", ".join(map(str, c["value"])) if isinstance(c["value"], list) else c["value"]
        lines.append(f"{c['field']} {c['op']} {value}")
    return "\n".join(lines)


@transaction.atomic
def save_routing_rule(
    *,
    by: User,
    name: str,
    position: int,
    conditions: str,
    team: Team | None,
    rep: User | None,
    is_active: bool = True,
    rule: RoutingRule | None = None,
) -> RoutingRule:
    """Add or change a routing rule: the first active rule whose conditions all hold sends the
    lead to `rep`, or round-robin within `team` (exactly one of the two)."""
    _require_admin(by)
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationError({"name": "a rule needs a name"})
    if (team is None) == (rep is None):
        raise ValidationError({"team": "send the lead to a team or to one rep (one of the two)"})
    if rep is not None and rep.role not in (Role.REP, Role.MANAGER):
        raise ValidationError({"rep": f"{rep} cannot own leads"})
    rule = rule or RoutingRule()
    rule.name, rule.position, rule.is_active = name, max(int(position), 0), is_active
    rule.conditions, rule.team, rule.rep = parse_conditions(conditions), team, rep
    rule.save()
    return rule


@transaction.atomic
def save_routing_member(
    user: User, *, by: User, weight, capacity, period: str, is_away: bool
) -> RoutingMember:
    """A rep's share of round-robin (weight 1–10), optional capacity per period, and away."""
    _require_admin(by)
    weight = _whole(weight, "weight", low=1, high=MAX_WEIGHT)
    capacity = None if str(capacity or "").strip() == "" else _whole(capacity, "capacity", low=0)
    if period not in CapacityPeriod.values:
        raise ValidationError({"period": f"must be one of {', '.join(CapacityPeriod.values)}"})
    member, _ = RoutingMember.objects.select_for_update().get_or_create(user=user)
    before = {"weight": member.weight, "capacity": member.capacity, "period": member.period}
    before["is_away"] = user.is_away
    member.weight, member.capacity, member.period = weight, capacity, period
    member.save(update_fields=["weight", "capacity", "period"])
    user.is_away = is_away
    user.save(update_fields=["is_away"])
    after = {"weight": weight, "capacity": capacity, "period": period, "is_away": is_away}
    changes = {k: (before[k], v) for k, v in after.items() if before[k] != v}
    if changes:
        record_change(member, action=AuditAction.UPDATE, changes=changes)
    return member


def _whole(raw, field: str, *, low: int, high: int | None = None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({field: "a whole number"}) from None
    if value < low or (high is not None and value > high):
        raise ValidationError({field: f"between {low} and {high}" if high else f"at least {low}"})
    return value


@transaction.atomic
def save_team_calendar(
    team: Team,
    *,
    by: User,
    work_start: time,
    work_end: time,
    workdays: list[int],
    holidays: list[date],
    escalation_webhook_url: str = "",
) -> TeamCalendar:
    """A team's working hours, working days and holidays (SLA clocks count only these)."""
    _require_admin(by)
    if work_end <= work_start:
        raise ValidationError({"work_end": "the working day must end after it starts"})
    days = sorted({int(d) for d in workdays})
    if not days or not set(days) <= set(range(7)):
        raise ValidationError({"workdays": "tick at least one working day"})
    calendar, _ = TeamCalendar.objects.get_or_create(team=team)
    calendar.work_start, calendar.work_end = work_start, work_end
    calendar.workdays = ",".join(map(str, days))
    calendar.escalation_webhook_url = escalation_webhook_url.strip()
    calendar.full_clean(exclude=["team"])
    calendar.save()
    _set_holidays(calendar, holidays)
    return calendar


def _set_holidays(calendar: TeamCalendar, holidays: list[date]) -> None:
    wanted = set(holidays)
    have = set(calendar.holidays.values_list("date", flat=True))
    if wanted == have:
        return
    calendar.holidays.exclude(date__in=wanted).delete()
    Holiday.objects.bulk_create(Holiday(calendar=calendar, date=d) for d in wanted - have)
    listed = [[d.isoformat() for d in sorted(days)] for days in (have, wanted)]
    record_change(calendar, action=AuditAction.UPDATE, changes={"holidays": tuple(listed)})
