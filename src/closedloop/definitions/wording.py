"""A definitions contract in plain words: the one-page agreement and the diff between versions.

Pure: no Django. Both read a parsed `Contract` (bodies are validated before they are saved, so
every stored version parses); the labels of fields, touch types and stages come in a
`rules.Catalog`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from closedloop.definitions.contract import (
    CapGroup,
    Contract,
    EngagementRules,
    IcpCriterion,
    MqlRule,
    SlaPolicy,
    SqlRule,
    StageDefinition,
)
from closedloop.definitions.rules import (
    HALF_LIFE_SPEC,
    OP_WORDS,
    SLA_SPECS,
    Catalog,
    NumberSpec,
    format_number,
)
from closedloop.pipeline import Pipeline, PipelineStage

# --------------------------------------------------------------------------------------------
# Plain words
# --------------------------------------------------------------------------------------------


def describe_step(step: float) -> str:
    """Thirds of a letter in words: 3 → "+1 letter", 1 → "+⅓ letter", -4 → "−1⅓ letters"."""
    sign = "+" if step > 0 else "−"
    whole, thirds = divmod(int(abs(step)), 3)
    fraction = {0: "", 1: "⅓", 2: "⅔"}[thirds]
    amount = f"{whole or ''}{fraction}" or "0"
    unit = "letter" if abs(step) <= 3 else "letters"
    return f"{sign}{amount} {unit}"


def value_words(value: Any) -> str:
    """A number or a list of values as a reader expects them: "1,200", "0.5", "US, GB"."""
    if isinstance(value, list | tuple):
        return ", ".join(value_words(v) for v in value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def describe_criterion(criterion: IcpCriterion, catalog: Catalog) -> str:
    """E.g. "Employees ≥ 200" or "Email contains “@gmail.”"."""
    name = catalog.field_label(criterion.field)
    if criterion.op == "contains":
        return f"{name} contains “{criterion.value}”"
    return f"{name} {OP_WORDS.get(criterion.op, criterion.op)} {value_words(criterion.value)}"


def describe_number(value: Any, spec: NumberSpec) -> str:
    if value is None:
        return "—"
    if spec.unit == "share":
        return f"{float(value):.0%}"
    words = value_words(value)
    return f"{words} {spec.unit}".strip() if spec.unit in ("days", "attempts") else words


def _cap_words(cap: CapGroup, catalog: Catalog) -> str:
    types = ", ".join(catalog.touch_label(t).lower() for t in cap.types)
    return f"{types} at most {value_words(cap.max)} points"


# --------------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One readable difference between two contracts."""

    section: str  # "ICP", "Engagement", "MQL rule", "SQL rule", "SLA", "Stages"
    kind: str  # "added", "removed", "changed"
    text: str  # "MQL minimum engagement 40 → 50"
    path: str  # where in the body: "mql_rule.min_engagement", "icp[Industry we win in]"

    def as_dict(self) -> dict[str, str]:
        return {"section": self.section, "kind": self.kind, "text": self.text, "path": self.path}


def _arrow(label: str, old: Any, new: Any) -> str:
    return f"{label} {old} → {new}"


def diff_contracts(old: Contract, new: Contract, catalog: Catalog) -> list[Change]:
    """Field-by-field differences from `old` to `new`, in the order a reader scans a contract.

    Criteria are matched by label (then by field and operator when a label changed), so a
    reordered list is not a change and an edited criterion reads as one change, not two.
    """
    return [
        *_diff_icp(old.icp, new.icp, catalog),
        *_diff_engagement(old.engagement, new.engagement, catalog),
        *_diff_mql(old.mql_rule, new.mql_rule),
        *_diff_sql(old.sql_rule, new.sql_rule),
        *_diff_sla(old.sla, new.sla),
        *_diff_stages(old.stages, new.stages),
        *_diff_pipeline(old.pipeline, new.pipeline),
    ]


Pairs = list[tuple[IcpCriterion, IcpCriterion]]


def _pair_criteria(
    old: tuple[IcpCriterion, ...], new: tuple[IcpCriterion, ...]
) -> tuple[Pairs, list[IcpCriterion], list[IcpCriterion]]:
    """(pairs, removed, added) with criteria matched by label, then by (field, op)."""
    left, right = list(old), list(new)
    pairs: Pairs = []
    keys = (lambda c: c.label.lower(), lambda c: (c.field, c.op))
    for key in keys:
        for criterion in list(right):
            match = next((o for o in left if key(o) == key(criterion)), None)
            if match is not None:
                pairs.append((match, criterion))
                left.remove(match)
                right.remove(criterion)
    return pairs, left, right


def _criterion_words(criterion: IcpCriterion, catalog: Catalog) -> str:
    return f"({describe_criterion(criterion, catalog)}, {describe_step(criterion.step)})"


def _diff_icp(
    old: tuple[IcpCriterion, ...], new: tuple[IcpCriterion, ...], catalog: Catalog
) -> list[Change]:
    pairs, removed, added = _pair_criteria(old, new)
    changes = [
        Change(
            "ICP",
            kind,
            f"ICP criterion {kind}: “{c.label}” {_criterion_words(c, catalog)}",
            f"icp[{c.label}]",
        )
        for kind, criteria in (("removed", removed), ("added", added))
        for c in criteria
    ]
    for before, after in pairs:
        changes.extend(_diff_criterion(before, after, catalog))
    return changes


def _diff_criterion(before: IcpCriterion, after: IcpCriterion, catalog: Catalog) -> list[Change]:
    name, path = f"ICP “{after.label}”", f"icp[{after.label}]"
    changes = []
    if before.label != after.label:
        text = _arrow("ICP criterion renamed", f"“{before.label}”", f"“{after.label}”")
        changes.append(Change("ICP", "changed", text, path))
    if (before.field, before.op, before.value) != (after.field, after.op, after.value):
        text = _arrow(
            f"{name} condition",
            describe_criterion(before, catalog),
            describe_criterion(after, catalog),
        )
        changes.append(Change("ICP", "changed", text, path))
    if before.step != after.step:
        text = _arrow(f"{name} step", describe_step(before.step), describe_step(after.step))
        changes.append(Change("ICP", "changed", text, path))
    return changes


def _diff_engagement(old: EngagementRules, new: EngagementRules, catalog: Catalog) -> list[Change]:
    changes = []
    for name in dict.fromkeys([*old.points, *new.points]):
        before, after = old.points.get(name, 0), new.points.get(name, 0)
        if before != after:
            label = f"Points for {catalog.touch_label(name).lower()}"
            text = _arrow(label, value_words(before), value_words(after))
            changes.append(Change("Engagement", "changed", text, f"engagement.points.{name}"))
    for name in dict.fromkeys([*old.caps, *new.caps]):
        change = _diff_cap(name, old.caps.get(name), new.caps.get(name), catalog)
        if change is not None:
            changes.append(change)
    if old.half_life_days != new.half_life_days:
        text = _arrow(
            "Engagement half-life",
            describe_number(old.half_life_days, HALF_LIFE_SPEC),
            describe_number(new.half_life_days, HALF_LIFE_SPEC),
        )
        changes.append(Change("Engagement", "changed", text, "engagement.half_life_days"))
    return changes


def _diff_cap(
    name: str, before: CapGroup | None, after: CapGroup | None, catalog: Catalog
) -> Change | None:
    path = f"engagement.caps.{name}"
    if before is None and after is not None:
        return Change(
            "Engagement", "added", f"Cap added: “{name}” ({_cap_words(after, catalog)})", path
        )
    if after is None and before is not None:
        text = f"Cap removed: “{name}” ({_cap_words(before, catalog)})"
        return Change("Engagement", "removed", text, path)
    if before is not None and after is not None and before != after:
        text = _arrow(f"Cap “{name}”", _cap_words(before, catalog), _cap_words(after, catalog))
        return Change("Engagement", "changed", text, path)
    return None


def _diff_mql(old: MqlRule, new: MqlRule) -> list[Change]:
    changes = []
    if old.min_engagement != new.min_engagement:
        text = _arrow(
            "MQL minimum engagement",
            value_words(old.min_engagement),
            value_words(new.min_engagement),
        )
        changes.append(Change("MQL rule", "changed", text, "mql_rule.min_engagement"))
    if old.min_fit_grade != new.min_fit_grade:
        text = _arrow("MQL minimum fit grade", old.min_fit_grade, new.min_fit_grade)
        changes.append(Change("MQL rule", "changed", text, "mql_rule.min_fit_grade"))
    return changes


def _diff_sql(old: SqlRule, new: SqlRule) -> list[Change]:
    path = "sql_rule.requires"
    changes = [
        Change("SQL rule", "added", f"SQL criterion added: {item}", path)
        for item in new.requires
        if item not in old.requires
    ]
    changes += [
        Change("SQL rule", "removed", f"SQL criterion removed: {item}", path)
        for item in old.requires
        if item not in new.requires
    ]
    if old.min_confirmed != new.min_confirmed:
        text = _arrow("SQL criteria to confirm", old.min_confirmed, new.min_confirmed)
        changes.append(Change("SQL rule", "changed", text, "sql_rule.min_confirmed"))
    return changes


def _diff_sla(old: SlaPolicy, new: SlaPolicy) -> list[Change]:
    changes = []
    before, after = dataclasses.asdict(old), dataclasses.asdict(new)
    for key, spec in SLA_SPECS.items():
        if before[key] != after[key]:
            label = f"SLA {spec.label[0].lower()}{spec.label[1:]}"
            if spec.unit and spec.unit not in ("days", "attempts", "share"):
                label += f" ({spec.unit})"
            text = _arrow(
                label, describe_number(before[key], spec), describe_number(after[key], spec)
            )
            changes.append(Change("SLA", "changed", text, f"sla.{key}"))
    return changes


def _diff_stages(
    old: tuple[StageDefinition, ...], new: tuple[StageDefinition, ...]
) -> list[Change]:
    before = {s.stage: s for s in old}
    changes = []
    for stage in new:
        prior, path = before.get(stage.stage), f"stages.{stage.stage}"
        if prior is None:
            changes.append(Change("Stages", "added", f"Stage described: {stage.label}", path))
            continue
        if prior.label != stage.label:
            text = _arrow(f"Stage {stage.stage} name", f"“{prior.label}”", f"“{stage.label}”")
            changes.append(Change("Stages", "changed", text, f"{path}.label"))
        if prior.next != stage.next:
            text = _arrow(
                f"{stage.label} moves to",
                ", ".join(prior.next) or "nowhere",
                ", ".join(stage.next) or "nowhere",
            )
            changes.append(Change("Stages", "changed", text, f"{path}.next"))
        if prior.entry != stage.entry:
            text = _arrow(f"{stage.label} entry rule", f"“{prior.entry}”", f"“{stage.entry}”")
            changes.append(Change("Stages", "changed", text, f"{path}.entry"))
    return changes


def _diff_pipeline(old: Pipeline, new: Pipeline) -> list[Change]:
    changes = []
    for stage in new.stages:
        changes += _diff_pipeline_stage(old.get(stage.code), stage)
    for stage in old.stages:
        if new.get(stage.code) is None:
            text = f"Pipeline stage removed: {stage.label}"
            changes.append(Change("Pipeline", "removed", text, f"pipeline.{stage.code}"))
    kept_before = [s.code for s in old.stages if new.get(s.code)]
    if kept_before != [s.code for s in new.stages if old.get(s.code)]:
        order = " → ".join(s.label for s in new.stages)
        changes.append(Change("Pipeline", "changed", f"Pipeline order: {order}", "pipeline"))
    return changes


def _diff_pipeline_stage(prior: PipelineStage | None, stage: PipelineStage) -> list[Change]:
    path = f"pipeline.{stage.code}"
    if prior is None:
        text = f"Pipeline stage added: {stage.label} ({stage.probability}%)"
        return [Change("Pipeline", "added", text, path)]
    changes = []
    if prior.label != stage.label:
        name = f"Pipeline stage {stage.code} name"
        text = _arrow(name, f"“{prior.label}”", f"“{stage.label}”")
        changes.append(Change("Pipeline", "changed", text, f"{path}.label"))
    if prior.probability != stage.probability:
        before, after = f"{prior.probability}%", f"{stage.probability}%"
        text = _arrow(f"{stage.label} probability", before, after)
        changes.append(Change("Pipeline", "changed", text, f"{path}.probability"))
    return changes


# --------------------------------------------------------------------------------------------
# The agreement both teams read and print
# --------------------------------------------------------------------------------------------


def describe_contract(contract: Contract, catalog: Catalog) -> dict[str, Any]:
    """The contract as sentences and rows for the one-page agreement."""
    engagement, mql, sql = contract.engagement, contract.mql_rule, contract.sql_rule
    half_life = value_words(engagement.half_life_days)
    return {
        "criteria": [
            {
                "label": c.label,
                "condition": describe_criterion(c, catalog),
                "effect": describe_step(c.step),
                "up": c.step > 0,
            }
            for c in contract.icp
        ],
        "stages": [
            {
                **dataclasses.asdict(s),
                "moves": ", ".join(contract.stage_label(m) for m in s.next),
            }
            for s in contract.stages
        ],
        "pipeline": [
            {"label": s.label, "probability": s.probability, "closed": s.is_closed}
            for s in contract.pipeline.stages
        ],
        "mql": (
            f"A lead becomes a {contract.stage_label('mql', 'MQL')} when its fit grade is "
            f"{mql.min_fit_grade} or better and its engagement score is at least "
            f"{value_words(mql.min_engagement)} points."
        ),
        "sql": (
            f"A lead is a {contract.stage_label('sql', 'SQL')} when the rep has confirmed at "
            f"least {sql.min_confirmed} of: {', '.join(sql.requires)}."
        ),
        "points": [
            {"type": catalog.touch_label(t), "points": value_words(p)}
            for t, p in engagement.points.items()
            if p
        ],
        "caps": [
            {"name": name, "words": _cap_words(cap, catalog)}
            for name, cap in engagement.caps.items()
        ],
        "half_life": (
            f"Engagement halves every {half_life} days: a touch "
            f"{half_life} days old counts half as much as today's."
        ),
        **_promises(contract.sla),
    }


def _promises(sla: SlaPolicy) -> dict[str, Any]:
    return {
        "sales_promises": [
            f"Make the first touch within {value_words(sla.first_touch_minutes)} working "
            "minutes of a lead becoming an MQL.",
            f"Make {sla.attempts} contact attempts within {sla.attempts_days} days before "
            "recycling a lead that does not answer.",
            f"Accept or reject every MQL with a reason; leads stay with their owner for "
            f"{sla.ownership_protect_days} days after the last touch.",
        ],
        "marketing_promises": [
            f"Deliver {sla.mql_per_rep_month} MQLs per rep per month.",
            f"Keep quality above the floor: at least {float(sla.accept_rate_floor):.0%} of "
            "delivered MQLs are accepted by sales.",
        ],
        "warning": (
            f"Both sides are warned {value_words(sla.warn_before_minutes)} minutes before an "
            "SLA falls due."
        ),
    }
