"""The definitions contract: drafts, sign-off, activation, diff and the what-if simulation.

Rules (docs/decisions/0007-definitions-contract.md says why):
- A change is a draft. It takes effect only when both sides have signed it. Who may sign for
  each side is a setting (`SignerRule`, Settings → Contract signers; by default sales managers
  for sales and marketing users for marketing). One person signs at most one side of a
  version; the author may sign their own side. Anyone on a team may propose a change; admins
  manage drafts but sign for no team; executives read.
- Editing a draft's body removes its signatures: a signature covers the text that was signed.
- Activating a version supersedes the previous one and every other open draft (each draft is a
  full copy of the contract it started from, so signing it later would silently undo this
  change), then announces `contract_activated` on commit so that scoring rescores every lead.
- Until anyone signs a change, version 1 is the installed defaults (`defaults.py`), created on
  first use and marked as signed by nobody.
"""

from __future__ import annotations

import copy
import datetime
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from closedloop.core import events
from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource, Role, User
from closedloop.crm.models import (
    Lead,
    LifecycleStage,
    Opportunity,
    OpportunityContact,
    OpportunityStage,
    StageChange,
)
from closedloop.definitions import rules, simulation, wording
from closedloop.definitions.contract import Contract
from closedloop.definitions.defaults import DEFAULT_CONTRACT
from closedloop.definitions.models import (
    ContractStatus,
    ContractVersion,
    Side,
    SignerRule,
    Signoff,
)
from closedloop.engagement.models import Touchpoint, TouchpointType
from closedloop.lifecycle import Lifecycle
from closedloop.pipeline import Pipeline
from closedloop.vocabulary import LEAD_FIELDS

STARTING_NOTE = "The installed default definitions, in force until both teams sign a change."
SIMULATION_WEEKS = 13  # the last 90 days, as 13 whole weeks (91 days)

# Lead fields an ICP criterion may not use: the scorer's own outputs (a criterion on them would
# feed the score back into itself) and workflow state, which says where a lead is, not who it is.
_NOT_CRITERIA = {
    "id",
    "version",
    "external_id",
    "lifecycle_stage",
    "status",
    "fit_grade",
    "engagement_score",
    "conversion_probability",
    "score",
    "score_reasons",
}
_TEXT_FIELDS = (models.CharField, models.TextField)
_NUMBER_FIELDS = (models.IntegerField, models.FloatField, models.DecimalField)


class ContractInvalid(Exception):
    """The body failed validation; `errors` maps each bad value's path to what is wrong."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors.items()))


class ContractStateError(Exception):
    """The action does not fit the version's state (signing a superseded version, …): HTTP 409."""


# --------------------------------------------------------------------------------------------
# Reading the contract in force (scoring and handoff call these)
# --------------------------------------------------------------------------------------------


def active_contract() -> ContractVersion:
    """The version in force; installs the defaults as version 1 on first use."""
    version = ContractVersion.objects.filter(status=ContractStatus.ACTIVE).first()
    return version if version is not None else _install_starting_contract()


def active_contract_body() -> dict:
    """The body of the contract in force (a copy: callers may change it freely)."""
    return copy.deepcopy(active_contract().body)


def contract_in_force() -> Contract:
    """The contract in force as typed objects (what scoring and handoff read)."""
    return active_contract().contract


def current_lifecycle() -> Lifecycle:
    """The stage moves the contract in force allows (read by crm's change_stage)."""
    return Lifecycle.from_contract(active_contract().body)


def current_pipeline() -> Pipeline:
    """The opportunity pipeline of the contract in force (read by crm's opportunity services)."""
    return Pipeline.from_contract(active_contract().body)


def active_contract_version() -> int | None:
    """The number of the contract version in force (1 until both teams sign a change)."""
    return active_contract().number


def _install_starting_contract() -> ContractVersion:
    try:
        with transaction.atomic(), acting_as(None, AuditSource.SYSTEM):
            number = (ContractVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
            now = timezone.now()
            return ContractVersion.objects.create(
                number=number,
                status=ContractStatus.ACTIVE,
                body=copy.deepcopy(DEFAULT_CONTRACT),
                change_note=STARTING_NOTE,
                created_at=now,
                activated_at=now,
            )
    except IntegrityError:
        # Another process installed it at the same moment: theirs is as good as ours.
        return ContractVersion.objects.get(status=ContractStatus.ACTIVE)


# --------------------------------------------------------------------------------------------
# What a contract may name, and who may do what
# --------------------------------------------------------------------------------------------


def catalog() -> rules.Catalog:
    """The lead fields, touch types and stages a contract may refer to, with their labels.

    ICP fields are the lead's own text and number fields that the scorer reads
    (`vocabulary.LEAD_FIELDS`): a criterion on a field the scorer does not load would
    match nobody in the scores while matching in the what-if, and the two must never disagree.
    """
    fields, labels = {}, {}
    for f in Lead._meta.concrete_fields:
        if f.name in _NOT_CRITERIA or f.is_relation or f.name not in LEAD_FIELDS:
            continue
        kind = (
            "text"
            if isinstance(f, _TEXT_FIELDS)
            else "number"
            if isinstance(f, _NUMBER_FIELDS)
            else None
        )
        if kind:
            fields[f.name] = kind
            labels[f.name] = str(f.verbose_name).capitalize()
    return rules.Catalog(
        fields=fields,
        field_labels=labels,
        touch_types=list(TouchpointType.values),
        touch_labels=dict(TouchpointType.choices),
        stages=list(LifecycleStage.values),
        stage_labels=dict(LifecycleStage.choices),
    )


# Who signs when no one has changed the setting: sales managers for sales (not any single
# rep), marketing for marketing. Admins change it in Settings → Contract signers.
DEFAULT_SIGNERS: dict[str, tuple[str, ...]] = {
    Side.MARKETING: (Role.MARKETING,),
    Side.SALES: (Role.MANAGER,),
}
SIGNING_ROLES = (Role.MARKETING, Role.REP, Role.MANAGER)  # admins and executives never sign
DRAFTING_ROLES = (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)


def signers() -> dict[str, tuple[str, ...]]:
    """{side: roles that may sign it}, from the settings (DEFAULT_SIGNERS where unset)."""
    stored = {rule.side: tuple(rule.roles) for rule in SignerRule.objects.all()}
    return {side: stored.get(side, DEFAULT_SIGNERS[side]) for side in Side.values}


def signing_side(user: User) -> Side | None:
    """The side `user` may sign for under the signer settings, or None."""
    for side, roles in signers().items():
        if user.role in roles:
            return Side(side)
    return None


@transaction.atomic
def set_signers(*, by: User, side: str, roles: list[str]) -> SignerRule:
    """An admin sets which roles sign for `side`. A role signs for one side at most (one
    person never signs both sides), and every side keeps at least one role."""
    if by.role != Role.ADMIN:
        raise PermissionDenied("only admins change who signs the contract")
    if side not in Side.values:
        raise ContractInvalid({"side": f"must be one of {', '.join(Side.values)}"})
    wanted = list(dict.fromkeys(roles))
    bad = [r for r in wanted if r not in SIGNING_ROLES]
    if bad or not wanted:
        allowed = ", ".join(SIGNING_ROLES)
        raise ContractInvalid({"roles": f"choose one or more of {allowed}; not {bad or 'none'}"})
    for other, other_roles in signers().items():
        taken = set(wanted) & set(other_roles) if other != side else set()
        if taken:
            raise ContractInvalid(
                {"roles": f"{', '.join(sorted(taken))} already sign for {Side(other).label}"}
            )
    rule, _ = SignerRule.objects.get_or_create(side=side, defaults={"roles": wanted})
    rule.roles = wanted
    rule.save()
    return rule


def can_draft(user: User) -> bool:
    """Anyone on a team (and admins) may propose a change; the signer settings decide who
    may sign it."""
    return user.role in DRAFTING_ROLES


def can_edit(user: User, version: ContractVersion) -> bool:
    """The author edits their draft; admins manage every draft."""
    return version.is_draft and (user.role == Role.ADMIN or version.author_id == user.pk)


def require_draft_rights(user: User) -> None:
    if not can_draft(user):
        raise PermissionDenied("only marketing, sales and admin users change the definitions")


# --------------------------------------------------------------------------------------------
# Drafts
# --------------------------------------------------------------------------------------------


def validate_body(body: Any) -> dict:
    """The cleaned body, or ContractInvalid naming every bad value."""
    cleaned, errors = rules.validate_contract(body, catalog())
    if not errors:
        errors = _stages_in_use(cleaned)
    if errors:
        raise ContractInvalid(errors)
    return cleaned


def _stages_in_use(body: Mapping[str, Any]) -> dict[str, str]:
    """An error for a pipeline that drops a stage where opportunities stand: every stored deal
    must stay at a stage of the contract in force (move them first)."""
    kept = set(Pipeline.from_contract(body).codes)
    dropped = Opportunity.objects.exclude(stage__in=kept).values_list("stage", flat=True).distinct()
    stranded = sorted(dropped[:5])
    if not stranded:
        return {}
    return {
        "pipeline.stages": f"opportunities still stand at {', '.join(stranded)}: move them first"
    }


def create_draft(*, by: User, body: Any = None, change_note: str = "") -> ContractVersion:
    """A new draft version: a copy of the contract in force, or `body` when given (validated)."""
    require_draft_rights(by)
    base = active_contract()
    cleaned = validate_body(base.body if body is None else body)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                number = ContractVersion.objects.aggregate(n=Max("number"))["n"] + 1
                return ContractVersion.objects.create(
                    number=number,
                    status=ContractStatus.DRAFT,
                    body=cleaned,
                    change_note=change_note.strip(),
                    based_on=base.number,
                    author=by,
                    created_at=timezone.now(),
                )
        except IntegrityError:
            continue  # someone took the number at the same moment; take the next one
    raise ContractStateError("could not number the new draft; try again")


@transaction.atomic
def update_draft(
    version: ContractVersion, *, by: User, body: Any = None, change_note: str | None = None
) -> ContractVersion:
    """Change a draft's body and/or note. A changed body removes the draft's signatures."""
    version = _lock(version)
    if not version.is_draft:
        raise ContractStateError(
            f"v{version.number} is {version.status}; only a draft can be edited"
        )
    if not can_edit(by, version):
        raise PermissionDenied("only the author of a draft (or an admin) edits it")
    if body is not None:
        cleaned = validate_body(body)
        if cleaned != version.body:
            version.body = cleaned
            for signoff in version.signoffs.all():
                signoff.delete()  # audited: the trail shows the signature was withdrawn
    if change_note is not None:
        version.change_note = change_note.strip()
    version.save()
    return version


@transaction.atomic
def withdraw_draft(version: ContractVersion, *, by: User) -> ContractVersion:
    """Abandon a draft; it stays in the history as withdrawn."""
    version = _lock(version)
    if not version.is_draft:
        raise ContractStateError(
            f"v{version.number} is {version.status}; only a draft can be withdrawn"
        )
    if not can_edit(by, version):
        raise PermissionDenied("only the author of a draft (or an admin) withdraws it")
    version.status = ContractStatus.WITHDRAWN
    version.save(update_fields=["status", "updated_at"])
    return version


def _lock(version: ContractVersion) -> ContractVersion:
    return ContractVersion.objects.select_for_update().get(pk=version.pk)


# --------------------------------------------------------------------------------------------
# Sign-off and activation
# --------------------------------------------------------------------------------------------


@transaction.atomic
def sign_contract(version: ContractVersion, *, by: User) -> Signoff:
    """`by` signs `version` for their team; the second team's signature puts it into force.

    Raises PermissionDenied for a user who signs for no team, ContractStateError when the
    version is not a draft, the user already signed it, or their side is already signed.
    """
    side = signing_side(by)
    if side is None:
        who = "; ".join(
            f"{Side(side).label}: {', '.join(Role(r).label for r in roles)}"
            for side, roles in signers().items()
        )
        raise PermissionDenied(
            f"{by.get_role_display()} users sign for no team under the signer settings ({who})"
        )
    version = _lock(version)
    if not version.is_draft:
        raise ContractStateError(
            f"v{version.number} is {version.status}; only a draft can be signed"
        )
    signed = {s.side: s for s in version.signoffs.select_related("user")}
    mine = next((s for s in signed.values() if s.user_id == by.pk), None)
    if mine is not None:
        raise ContractStateError(
            f"you already signed v{version.number} for {mine.get_side_display().lower()}; "
            "the other side must be signed by someone else"
        )
    if side in signed:
        other = signed[side]
        raise ContractStateError(
            f"the {side.label.lower()} side of v{version.number} was already signed by "
            f"{other.user} on {other.signed_at:%Y-%m-%d %H:%M}"
        )
    signoff = Signoff.objects.create(contract=version, side=side, user=by, signed_at=timezone.now())
    if len(signed) + 1 == len(Side.values):
        _activate(version)
    return signoff


def _activate(version: ContractVersion) -> None:
    now = timezone.now()
    open_versions = (
        ContractVersion.objects.select_for_update()
        .filter(status__in=[ContractStatus.ACTIVE, ContractStatus.DRAFT])
        .exclude(pk=version.pk)
    )
    for other in open_versions:
        other.status = ContractStatus.SUPERSEDED
        other.superseded_at = now
        other.save(update_fields=["status", "superseded_at", "updated_at"])
    version.status = ContractStatus.ACTIVE
    version.activated_at = now
    version.save(update_fields=["status", "activated_at", "updated_at"])
    payload = {"version": version.number}
    # Robust: the version is in force once committed; a failing listener is logged, and must
    # not turn the signer's successful sign-off into an error page.
    transaction.on_commit(
        lambda: events.contract_activated.send(sender=ContractVersion, payload=payload), robust=True
    )


# --------------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------------


def diff_versions(old: ContractVersion, new: ContractVersion) -> list[wording.Change]:
    """What changed from `old` to `new`, one readable line per field."""
    return wording.diff_contracts(old.contract, new.contract, catalog())


def compared_version(version: ContractVersion) -> ContractVersion | None:
    """What a version is best read against: the one in force for a draft, else its predecessor."""
    if version.is_draft:
        active = active_contract()
        return active if active.pk != version.pk else None
    return (
        ContractVersion.objects.filter(number__lt=version.number, activated_at__isnull=False)
        .order_by("-number")
        .first()
    )


# --------------------------------------------------------------------------------------------
# What-if simulation
# --------------------------------------------------------------------------------------------


class EpochSeconds(models.Func):
    """Seconds since 1970 of a datetime column, computed by the database (fast to fetch)."""

    output_field = models.FloatField()

    def as_sqlite(self, compiler, conn, **extra):
        return self.as_sql(
            compiler, conn, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        )

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="EXTRACT(EPOCH FROM %(expressions)s)::float8")


def _rows(queryset) -> list[tuple]:
    # Straight through the cursor: no model instances or per-value converters for 10^6 rows.
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _criteria_fields(*contracts: Contract) -> list[str]:
    known = catalog().fields
    return sorted({c.field for contract in contracts for c in contract.icp if c.field in known})


def load_history(
    *, start: datetime.datetime, end: datetime.datetime, fields: list[str]
) -> simulation.History:
    """The leads created in [start, end], their touches up to `end` and their outcomes, as arrays.

    Five queries. Touches, by far the most rows, come back as numbers only (the database maps
    each type to its code and each time to epoch seconds), straight into one float array.
    """
    in_window = {"created_at__gte": start, "created_at__lte": end}
    of_leads = {f"lead__{k}": v for k, v in in_window.items()}
    # No ORDER BY anywhere: sorting here is a temporary B-tree over every row; numpy sorts faster.
    leads = _rows(
        Lead.objects.filter(**in_window)
        .order_by()
        .values_list("id", EpochSeconds("created_at"), "lifecycle_stage", *fields)
    )
    leads.sort(key=lambda row: row[0])  # by id, for searchsorted below
    ids = np.fromiter((row[0] for row in leads), dtype=np.int64, count=len(leads))
    origin = start.timestamp()
    created_day = (
        np.fromiter((row[1] for row in leads), dtype=float, count=len(leads)) - origin
    ) / 86400
    stage = np.array([row[2] for row in leads], dtype=object)
    columns = {name: [row[3 + i] for row in leads] for i, name in enumerate(fields)}
    del leads

    type_names = list(TouchpointType.values)
    type_code = models.Case(
        *(models.When(type=name, then=models.Value(i)) for i, name in enumerate(type_names)),
        default=models.Value(type_names.index(TouchpointType.OTHER)),
        output_field=models.IntegerField(),
    )
    touches = np.array(
        _rows(
            Touchpoint.objects.filter(occurred_at__lte=end, **of_leads)
            .order_by()
            .values_list("lead_id", type_code, EpochSeconds("occurred_at"))
        ),
        dtype=float,
    ).reshape(-1, 3)
    touch_lead = np.searchsorted(ids, touches[:, 0].astype(np.int64))
    touch_type = touches[:, 1].astype(np.int64)
    touch_day = (touches[:, 2] - origin) / 86400

    later = [LifecycleStage.OPPORTUNITY, LifecycleStage.CUSTOMER]
    reached = np.isin(stage, later) | _flag(
        ids, StageChange.objects.filter(to_stage__in=later, **of_leads).values_list("lead_id")
    )
    won = (
        (stage == LifecycleStage.CUSTOMER)
        | _flag(
            ids,
            StageChange.objects.filter(to_stage=LifecycleStage.CUSTOMER, **of_leads).values_list(
                "lead_id"
            ),
        )
        | _flag(
            ids,
            OpportunityContact.objects.filter(
                opportunity__stage=OpportunityStage.WON, **of_leads
            ).values_list("lead_id"),
        )
    )
    return simulation.History(
        columns=columns,
        created_day=created_day,
        touch_lead=touch_lead,
        touch_type=touch_type,
        type_names=type_names,
        touch_day=touch_day,
        reached_opportunity=reached,
        won=won,
    )


def _flag(ids: np.ndarray, lead_ids_queryset) -> np.ndarray:
    """Bool per lead of `ids`: is it among the lead ids the query returns."""
    rows = _rows(lead_ids_queryset.order_by().distinct())
    found = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    return np.isin(ids, found)


def simulate_contract(
    version: ContractVersion, *, now: datetime.datetime | None = None, weeks: int = SIMULATION_WEEKS
) -> dict:
    """Replay the last `weeks` weeks under `version` and under the contract in force.

    Returns {"weeks": [week start dates], "candidate": {...}, "active": {...}, "leads",
    "touches", "seconds", …}; each side has mqls_per_week, mqls, reached_opportunity, won and
    the rates opportunity_rate / won_rate (0–1, None without MQLs).
    """
    started = time.perf_counter()
    end = now or timezone.now()
    start = end - datetime.timedelta(weeks=weeks)
    active = active_contract()
    candidate, in_force = version.contract, active.contract
    history = load_history(
        start=start, end=end, fields=_criteria_fields(candidate, in_force)
    ).in_time_order()
    loaded = time.perf_counter()
    week_ends = np.arange(1, weeks + 1, dtype=float) * 7
    candidate_outcome = simulation.simulate(history, candidate, week_ends)
    active_outcome = simulation.simulate(history, in_force, week_ends)
    return {
        "candidate_version": version.number,
        "active_version": active.number,
        "start": start,
        "end": end,
        "weeks": [(start + datetime.timedelta(weeks=w)).date() for w in range(weeks)],
        "candidate": candidate_outcome.as_dict(),
        "active": active_outcome.as_dict(),
        "leads": history.n_leads,
        "touches": int(len(history.touch_day)),
        "load_seconds": round(loaded - started, 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
