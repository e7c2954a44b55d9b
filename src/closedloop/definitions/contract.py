"""The definitions contract as frozen, typed objects. Pure: no Django.

A contract version stores its body as JSON (shape in `defaults.py`); `rules.validate_contract`
cleans what people send, and `parse_contract` turns a clean body into a `Contract` once, so
that scoring, handoff, the what-if simulation and the agreement page read attributes
(`contract.mql_rule.min_engagement`) instead of string keys, and a misspelt name fails in
mypy rather than at run time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from closedloop.lifecycle import default_moves
from closedloop.pipeline import Pipeline

CriterionValue = str | float | tuple[str | float, ...]


class Op(StrEnum):
    """How an ICP criterion compares a lead field with its value."""

    EQ = "eq"
    IN = "in"
    GTE = "gte"
    LTE = "lte"
    CONTAINS = "contains"


class ContractError(ValueError):
    """A stored body does not have the contract's shape (it skipped validation)."""


@dataclass(frozen=True)
class IcpCriterion:
    """One fit criterion: a lead whose `field` meets `op value` moves `step` thirds of a letter."""

    field: str
    op: Op
    value: CriterionValue
    step: float
    label: str

    def as_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "field": self.field,
            "op": str(self.op),
            "value": value,
            "step": self.step,
            "label": self.label,
        }


@dataclass(frozen=True)
class CapGroup:
    """A group of touch types whose decayed points together count at most `max`."""

    types: tuple[str, ...]
    max: float


@dataclass(frozen=True)
class EngagementRules:
    """Points per touch type, caps per group (by group name) and the half-life of decay (days)."""

    points: Mapping[str, float]
    caps: Mapping[str, CapGroup]
    half_life_days: float

    def without_caps(self) -> EngagementRules:
        """The same rules with every cap lifted (the groups stay)."""
        lifted = {name: CapGroup(cap.types, float("inf")) for name, cap in self.caps.items()}
        return EngagementRules(self.points, MappingProxyType(lifted), self.half_life_days)


@dataclass(frozen=True)
class MqlRule:
    """A lead is an MQL when engagement >= min_engagement and fit grade >= min_fit_grade."""

    min_engagement: float
    min_fit_grade: str


@dataclass(frozen=True)
class SqlRule:
    """Sales calls a lead an SQL after confirming at least min_confirmed of `requires`."""

    requires: tuple[str, ...]
    min_confirmed: int

    def judge(self, answers: Mapping[str, Any]) -> SqlVerdict:
        """The rule applied to a rep's answers {criterion: {"confirmed": bool, "evidence":
        text}}: each criterion's cleaned answer, and the problems keyed by field
        (`answers.<criterion>` for a confirmation without evidence or an unknown criterion,
        `answers` when too few are confirmed). Qualified when there are no problems."""
        problems: dict[str, str] = {}
        for name in answers:
            if name not in self.requires:
                problems[f"answers.{name}"] = (
                    f"not a criterion of the SQL rule ({_and(self.requires)})"
                )
        cleaned = {name: _answer(answers.get(name)) for name in self.requires}
        for name, answer in cleaned.items():
            if answer["confirmed"] and not answer["evidence"]:
                problems[f"answers.{name}"] = f"say what confirmed {criterion_label(name).lower()}"
        confirmed = tuple(name for name, answer in cleaned.items() if answer["confirmed"])
        if len(confirmed) < self.min_confirmed:
            problems["answers"] = self.shortfall(confirmed)
        return SqlVerdict(cleaned, confirmed, problems)

    def shortfall(self, confirmed: Sequence[str]) -> str:
        """Why `confirmed` is not enough, naming what is missing."""
        missing = [criterion_label(n) for n in self.requires if n not in confirmed]
        need = self.min_confirmed - len(confirmed)
        got = _and([criterion_label(n) for n in confirmed]) or "none"
        return (
            f"the SQL rule needs {self.min_confirmed} of {len(self.requires)} criteria confirmed "
            f"(confirmed: {got}); confirm {need} more of {_and(missing, 'or')}"
        )


@dataclass(frozen=True)
class SqlVerdict:
    """The SQL rule applied to answers: cleaned answers, the confirmed criteria, problems."""

    answers: Mapping[str, Mapping[str, Any]]
    confirmed: tuple[str, ...]
    problems: Mapping[str, str]

    @property
    def qualified(self) -> bool:
        return not self.problems


def criterion_label(name: str) -> str:
    """A criterion's name in words: "budget" → "Budget", "use_case" → "Use case"."""
    return name.replace("_", " ").capitalize()


def _answer(raw: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        evidence = raw.get("evidence")
        confirmed = raw.get("confirmed")
    else:
        evidence, confirmed = "", raw
    text = evidence.strip() if isinstance(evidence, str) else ""
    return {"confirmed": confirmed is True, "evidence": text[:1000]}


def _and(items: Sequence[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


@dataclass(frozen=True)
class SlaPolicy:
    """The handoff numbers both teams promise (minutes are working minutes where noted)."""

    first_touch_minutes: int  # working minutes from MQL to first touch
    attempts: int
    attempts_days: int
    mql_per_rep_month: int  # marketing's promise
    accept_rate_floor: float  # share of delivered MQLs that sales accepts
    warn_before_minutes: int
    ownership_protect_days: int


@dataclass(frozen=True)
class StageDefinition:
    """A lifecycle stage in the words both teams use, how a lead enters it, and the stages it
    may move to (`next`)."""

    stage: str
    label: str
    entry: str
    next: tuple[str, ...]


@dataclass(frozen=True)
class Contract:
    """A whole definitions contract; `body` is the JSON it was parsed from."""

    icp: tuple[IcpCriterion, ...]
    engagement: EngagementRules
    mql_rule: MqlRule
    sql_rule: SqlRule
    sla: SlaPolicy
    stages: tuple[StageDefinition, ...]
    pipeline: Pipeline
    body: Mapping[str, Any] = field(repr=False, compare=False)

    def stage_label(self, stage: str, default: str = "") -> str:
        """The contract's name for a stage ("Marketing qualified lead"), or `default`."""
        return next((s.label for s in self.stages if s.stage == stage), default or stage)


def parse_contract(body: Mapping[str, Any]) -> Contract:
    """A clean contract body (what `rules.validate_contract` returns) as a `Contract`.

    Raises ContractError naming the section when the body lacks part of the shape.
    """
    try:
        return Contract(
            icp=tuple(_criterion(c) for c in body["icp"]),
            engagement=_engagement(body["engagement"]),
            mql_rule=MqlRule(
                _number(body["mql_rule"]["min_engagement"]), str(body["mql_rule"]["min_fit_grade"])
            ),
            sql_rule=SqlRule(
                tuple(body["sql_rule"]["requires"]), int(body["sql_rule"]["min_confirmed"])
            ),
            sla=_sla(body["sla"]),
            stages=tuple(_stage(s) for s in body["stages"]),
            pipeline=Pipeline.from_contract(body),
            body=MappingProxyType(dict(body)),
        )
    except (KeyError, TypeError, ValueError) as problem:
        raise ContractError(f"not a contract body: {problem!r}") from problem


def _number(value: Any) -> float:
    """A number as the body holds it: whole numbers stay int, so that they read "1,200"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float(value)
    return value


def _stage(raw: Mapping[str, Any]) -> StageDefinition:
    # Contracts signed before `next` existed move as the starting contract does.
    moves = raw.get("next")
    found = moves if isinstance(moves, list | tuple) else default_moves(raw["stage"])
    return StageDefinition(raw["stage"], raw["label"], raw["entry"], tuple(found))


def _criterion(raw: Mapping[str, Any]) -> IcpCriterion:
    value = raw["value"]
    if isinstance(value, list | tuple):
        value = tuple(value)
    return IcpCriterion(
        field=str(raw["field"]),
        op=Op(raw["op"]),
        value=value,
        step=_number(raw.get("step") or 0),
        label=str(raw.get("label") or f"{raw['field']} {raw['op']} {raw['value']}"),
    )


def _engagement(raw: Mapping[str, Any]) -> EngagementRules:
    caps = {
        str(name): CapGroup(tuple(spec["types"]), _number(spec["max"]))
        for name, spec in raw.get("caps", {}).items()
    }
    points = {str(name): _number(p or 0) for name, p in raw.get("points", {}).items()}
    return EngagementRules(
        points=MappingProxyType(points),
        caps=MappingProxyType(caps),
        half_life_days=_number(raw.get("half_life_days") or 0),
    )


def _sla(raw: Mapping[str, Any]) -> SlaPolicy:
    return SlaPolicy(
        first_touch_minutes=int(raw["first_touch_minutes"]),
        attempts=int(raw["attempts"]),
        attempts_days=int(raw["attempts_days"]),
        mql_per_rep_month=int(raw["mql_per_rep_month"]),
        accept_rate_floor=_number(raw["accept_rate_floor"]),
        warn_before_minutes=int(raw["warn_before_minutes"]),
        ownership_protect_days=int(raw["ownership_protect_days"]),
    )


def criteria(items: Sequence[Mapping[str, Any]]) -> tuple[IcpCriterion, ...]:
    """ICP criteria from their JSON form (tests and benchmarks build contracts piecemeal)."""
    return tuple(_criterion(c) for c in items)


def engagement_rules(raw: Mapping[str, Any]) -> EngagementRules:
    """Engagement rules from their JSON form {points, caps, half_life_days}."""
    return _engagement(raw)
