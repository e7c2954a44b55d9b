"""Assigning MQLs to reps, safely with many workers at once.

A batch is assigned in one transaction:
  1. claim up to `batch_size` unassigned MQLs: SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL
     (another worker's rows are skipped, not waited for); on SQLite the transaction is
     IMMEDIATE, so the whole batch holds the single write lock;
  2. lock the round-robin counters (RoutingMember rows, in id order so workers never deadlock);
  3. route every lead with the pure engine, advancing the counters in memory;
  4. write owners with `UPDATE … WHERE owner IS NULL` (one statement per rep) and refuse the
     batch if any row was already owned: a lead can never get two owners.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from closedloop.core.audit import record_bulk
from closedloop.core.db.insert import insert_rows
from closedloop.core.models import Role, User
from closedloop.crm.models import Account, Lead, LifecycleStage
from closedloop.handoff import engine
from closedloop.handoff.models import Assignment, RoutingMember, RoutingRule
from closedloop.handoff.sla import calendars_for_teams, sla_numbers, upsert_timers


class DoubleAssignment(Exception):
    """A lead in the batch already had an owner: the batch is rolled back."""


def load_rules() -> list[engine.Rule]:
    """The active routing rules, in order, as engine rules."""
    return [
        engine.Rule(
            name=rule.name,
            conditions=tuple((c["field"], c["op"], c.get("value")) for c in rule.conditions),
            team_id=rule.team_id,
            rep_id=rule.rep_id,
        )
        for rule in RoutingRule.objects.filter(is_active=True)
    ]


def ensure_members(user_ids: Iterable[int]) -> None:
    """Give every rep a RoutingMember row (weight 1, no capacity limit) if they lack one."""
    have = set(RoutingMember.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    missing = [RoutingMember(user_id=uid) for uid in set(user_ids) - have]
    RoutingMember.objects.bulk_create(missing, ignore_conflicts=True)


def pool_user_ids(rules: list[engine.Rule]) -> dict[int, list[int]]:
    """Active reps of each team a rule round-robins in: {team_id: [user ids]}."""
    team_ids = {r.team_id for r in rules if r.team_id is not None}
    pools: dict[int, list[int]] = defaultdict(list)
    reps = User.objects.filter(team_id__in=team_ids, role=Role.REP, is_active=True).values_list(
        "team_id", "id"
    )
    for team_id, user_id in reps:
        pools[team_id].append(user_id)
    return pools


def assign_leads(*, batch_size: int = 500, now: datetime | None = None) -> int:
    """Assign every unassigned MQL that a rule (or an account owner) claims; returns how many.

    Safe to run in many workers at once. Leads no rule matches stay in the unassigned queue.
    """
    rules = load_rules()
    pools = pool_user_ids(rules)
    ensure_members([uid for ids in pools.values() for uid in ids] + _rule_reps(rules))
    assigned, after_id = 0, 0
    while True:
        claimed_up_to, count = assign_batch(
            rules=rules, pools=pools, after_id=after_id, batch_size=batch_size, now=now
        )
        if claimed_up_to is None:
            return assigned
        assigned, after_id = assigned + count, claimed_up_to


def assign_lead(lead: Lead, *, now: datetime | None = None) -> int | None:
    """Route one lead now (e.g. the moment it becomes an MQL); returns the new owner's id."""
    rules = load_rules()
    pools = pool_user_ids(rules)
    ensure_members([uid for ids in pools.values() for uid in ids] + _rule_reps(rules))
    assign_batch(rules=rules, pools=pools, ids=[lead.pk], batch_size=1, now=now)
    return Lead.objects.filter(pk=lead.pk).values_list("owner_id", flat=True).first()


def _rule_reps(rules: list[engine.Rule]) -> list[int]:
    return [r.rep_id for r in rules if r.rep_id is not None]


@transaction.atomic
def assign_batch(
    *,
    rules: list[engine.Rule],
    pools: dict[int, list[int]],
    after_id: int = 0,
    ids: list[int] | None = None,
    batch_size: int = 500,
    now: datetime | None = None,
) -> tuple[int | None, int]:
    """Claim and assign one batch of unassigned MQLs with id > after_id.

    Returns (highest id claimed or None when nothing was left, number assigned).
    """
    now = now or timezone.now()
    leads = _claim(rules=rules, after_id=after_id, ids=ids, batch_size=batch_size)
    if not leads:
        return None, 0
    owners = _account_owners(leads)
    ensure_members(set(owners.values()))
    members = _lock_members(pools, rules, set(owners.values()), today=now.date())
    team_pools = {
        team_id: [members[uid] for uid in user_ids if uid in members]
        for team_id, user_ids in pools.items()
    }
    decisions = {
        lead["id"]: engine.route(
            lead,
            rules=rules,
            account_owner_id=owners.get(lead["id"]),
            pools=team_pools,
            reps=members,
        )
        for lead in leads
    }
    count = _write(leads, decisions, members, now=now)
    return leads[-1]["id"], count


def _fields_needed(rules: list[engine.Rule]) -> list[str]:
    # Read only the columns the rules look at: a batch of whole rows costs more than routing it.
    names = {f.attname for f in Lead._meta.concrete_fields}
    wanted = {"id", "email", "account_id", "mql_at"}
    wanted |= {field for rule in rules for field, _, _ in rule.conditions if field in names}
    return sorted(wanted)


def _claim(
    *, rules: list[engine.Rule], after_id: int, ids: list[int] | None, batch_size: int
) -> list[dict]:
    rows = Lead.objects.filter(owner__isnull=True, lifecycle_stage=LifecycleStage.MQL)
    rows = rows.filter(pk__in=ids) if ids is not None else rows.filter(pk__gt=after_id)
    rows = rows.select_for_update(skip_locked=True).order_by("pk")[:batch_size]
    leads = list(rows.values(*_fields_needed(rules)))
    for lead in leads:
        lead["email_domain"] = engine.email_domain(lead["email"])
    return leads


def _account_owners(leads: list[dict]) -> dict[int, int]:
    """Lead id → owner of its account: the linked account first, else one with its domain."""
    account_ids = {lead["account_id"] for lead in leads if lead["account_id"]}
    domains = {lead["email_domain"] for lead in leads if lead["email_domain"]}
    accounts = (
        Account.objects.annotate(domain_lower=Lower("domain"))
        .filter(owner__isnull=False, owner__is_active=True)
        .order_by()
    )
    by_id, by_domain = {}, {}
    for acc_id, owner_id in accounts.filter(pk__in=account_ids).values_list("id", "owner_id"):
        by_id[acc_id] = owner_id
    if domains:
        # Stating the partial unique index's condition (domain != '') lets the planner use it:
        # without it SQLite scans every account (200 ms a lead at a million leads).
        with_domain = accounts.exclude(domain="")
        for domain, owner_id in with_domain.filter(domain_lower__in=domains).values_list(
            "domain_lower", "owner_id"
        ):
            by_domain[domain] = owner_id
    owners = {}
    for lead in leads:
        owner = by_id.get(lead["account_id"]) or by_domain.get(lead["email_domain"])
        if owner:
            owners[lead["id"]] = owner
    return owners


def _lock_members(
    pools: dict[int, list[int]], rules: list[engine.Rule], extra: set[int], *, today
) -> dict[int, engine.Member]:
    user_ids = {uid for ids in pools.values() for uid in ids} | set(_rule_reps(rules)) | extra
    # In id order, so two workers lock the same rows in the same order and never deadlock.
    rows = list(
        RoutingMember.objects.select_for_update().filter(user_id__in=user_ids).order_by("pk")
    )
    users = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "is_away"))
    teams = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "team_id"))
    members = {}
    for row in rows:
        start = engine.period_start(today, row.period)
        in_period = row.assigned_in_period if row.period_start == start else 0
        members[row.user_id] = engine.Member(
            id=row.user_id,
            team_id=teams.get(row.user_id),
            weight=row.weight,
            capacity=row.capacity,
            in_period=in_period,
            total=row.assigned_total,
            away=users.get(row.user_id, True),
        )
        members[row.user_id].row = row  # type: ignore[attr-defined]
    return members


def _write(leads, decisions, members, *, now: datetime) -> int:
    by_owner: dict[int, list[int]] = defaultdict(list)
    for lead_id, decision in decisions.items():
        if decision.owner_id is not None:
            by_owner[decision.owner_id].append(lead_id)
    assigned = [lead for lead in leads if decisions[lead["id"]].owner_id is not None]
    if not assigned:
        return 0
    ids = [lead["id"] for lead in assigned]
    # One UPDATE for the batch; `owner IS NULL` makes a second owner impossible even if a
    # lock were ever missed: the count would come up short and the batch roll back.
    updated = _set_owners(ids, decisions, now=now)
    if updated != len(ids):
        raise DoubleAssignment(f"{len(ids) - updated} of the leads already had an owner")
    _log_assignments(ids, decisions, now=now)
    _save_counters(members, today=now.date())
    _start_timers(assigned, decisions, members, now=now)
    record_bulk(Lead, count=len(assigned), description=f"Routing assigned {len(assigned)} leads")
    return len(assigned)


def _set_owners(ids: list[int], decisions, *, now: datetime) -> int:
    # Raw SQL: the ORM spends longer resolving a 500-branch CASE than the database runs it.
    # Every number is an int from the database, written with int() so nothing else can enter.
    cases = " ".join(f"WHEN {int(i)} THEN {int(decisions[i].owner_id)}" for i in ids)
    id_list = ",".join(str(int(i)) for i in ids)
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Lead._meta.db_table} SET owner_id = CASE id {cases} END, assigned_at = %s, "
            f"updated_at = %s, version = version + 1 WHERE id IN ({id_list}) AND owner_id IS NULL",
            [at, at],
        )
        return cursor.rowcount


def _log_assignments(ids: list[int], decisions, *, now: datetime) -> None:
    insert_rows(
        Assignment,
        ("lead_id", "to_owner_id", "rule", "reason", "at"),
        [(i, decisions[i].owner_id, decisions[i].rule[:100], "routing", now) for i in ids],
    )


def _save_counters(members: dict[int, engine.Member], *, today) -> None:
    rows = []
    for member in members.values():
        row = member.row  # type: ignore[attr-defined]
        if (row.assigned_in_period, row.assigned_total) == (member.in_period, member.total):
            continue
        row.assigned_in_period, row.assigned_total = member.in_period, member.total
        row.period_start = engine.period_start(today, row.period)
        rows.append(row)
    RoutingMember.objects.bulk_update(
        rows, ["assigned_in_period", "assigned_total", "period_start"]
    )


def _start_timers(assigned, decisions, members, *, now: datetime) -> None:
    team_of = {lead["id"]: members[decisions[lead["id"]].owner_id].team_id for lead in assigned}
    calendars = calendars_for_teams(set(team_of.values()))
    upsert_timers(
        [(lead["id"], lead["mql_at"] or now, calendars[team_of[lead["id"]]]) for lead in assigned],
        numbers=sla_numbers(),
    )
