"""Validation, diff and plain-words rendering of a definitions contract body. No Django here.

The web form and the JSON API both feed a raw body (numbers may arrive as text from a form)
to `validate_contract`, which returns a cleaned body and errors keyed by the path of the
offending value (`mql_rule.min_engagement`, `icp.2.op`, `engagement.caps.web.max`, …): the
form shows each error beside its input and the API names the field in its 422 answer.

What a body may refer to (lead fields, touch types, lifecycle stages) comes in a `Catalog`
built by the Django adapter in `services.py`, so this module stays testable on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from closedloop.definitions.lifecycle import clean_moves, default_moves
from closedloop.scoring.engine import GRADES

OPS: tuple[str, ...] = ("eq", "in", "gte", "lte", "contains")
OP_WORDS = {"eq": "is", "in": "is one of", "gte": "≥", "lte": "≤", "contains": "contains"}
# Comparisons make sense for numbers, substrings for text.
OPS_BY_KIND = {"number": ("eq", "in", "gte", "lte"), "text": ("eq", "in", "contains")}
MAX_STEP = 12  # thirds of a letter: F → A+ is 12 steps
MAX_CRITERIA = 50
SECTIONS = ("icp", "engagement", "mql_rule", "sql_rule", "sla", "stages")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Catalog:
    """What a contract may name. fields: lead field → "text" | "number"; labels for people."""

    fields: Mapping[str, str]
    touch_types: Sequence[str]
    stages: Sequence[str]
    field_labels: Mapping[str, str] = field(default_factory=dict)
    touch_labels: Mapping[str, str] = field(default_factory=dict)
    stage_labels: Mapping[str, str] = field(default_factory=dict)
    grades: Sequence[str] = GRADES

    def field_label(self, name: str) -> str:
        return self.field_labels.get(name, name.replace("_", " ").capitalize())

    def touch_label(self, name: str) -> str:
        return self.touch_labels.get(name, name.replace("_", " ").capitalize())


@dataclass(frozen=True)
class NumberSpec:
    label: str
    minimum: float
    maximum: float
    whole: bool = True
    unit: str = ""


SLA_SPECS: dict[str, NumberSpec] = {
    "first_touch_minutes": NumberSpec(
        "First touch after MQL", 1, 60 * 24 * 30, unit="working minutes"
    ),
    "attempts": NumberSpec("Contact attempts before recycling", 1, 50, unit="attempts"),
    "attempts_days": NumberSpec("Days to make those attempts", 1, 90, unit="days"),
    "mql_per_rep_month": NumberSpec("MQLs marketing delivers per rep per month", 0, 10_000),
    "accept_rate_floor": NumberSpec("Acceptance-rate floor", 0, 1, whole=False, unit="share"),
    "warn_before_minutes": NumberSpec("Warn before an SLA is due", 0, 60 * 24 * 30, unit="minutes"),
    "ownership_protect_days": NumberSpec(
        "Ownership protected after last touch", 0, 365, unit="days"
    ),
}
MQL_SPEC = NumberSpec("MQL minimum engagement", 0, 100_000, whole=False, unit="points")
HALF_LIFE_SPEC = NumberSpec("Engagement half-life", 0.5, 3650, whole=False, unit="days")
POINTS_SPEC = NumberSpec("Points", 0, 1000, whole=False)
CAP_SPEC = NumberSpec("Cap", 1, 100_000, whole=False)


class Errors(dict):
    """path → message; the first problem found for a path wins."""

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, message)


# --------------------------------------------------------------------------------------------
# Scalars
# --------------------------------------------------------------------------------------------


def _parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _format(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def clean_number(value: Any, spec: NumberSpec, path: str, errors: Errors) -> float | int | None:
    """A number within spec's bounds (whole when spec says so), or None after adding an error."""
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(path, "is required")
        return None
    number = _parse_number(value)
    if number is None:
        errors.add(path, f"must be a number, not {value!r}")
        return None
    if spec.whole and not number.is_integer():
        errors.add(path, f"must be a whole number, not {_format(number)}")
        return None
    if number < spec.minimum:
        word = "negative" if spec.minimum == 0 else f"below {_format(spec.minimum)}"
        errors.add(path, f"cannot be {word} (got {_format(number)})")
        return None
    if number > spec.maximum:
        errors.add(path, f"cannot be more than {_format(spec.maximum)} (got {_format(number)})")
        return None
    return int(number) if spec.whole or number.is_integer() else number


def _clean_text(value: Any, path: str, errors: Errors, *, max_length: int, required=True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(path, f"must be text, not {value!r}")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(path, "is required")
    elif len(value) > max_length:
        errors.add(path, f"is too long ({len(value)} characters; at most {max_length})")
    return value


def _as_list(value: Any) -> list | None:
    """A list from a JSON list or from comma-separated text (what a form sends)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return None


def _as_mapping(value: Any, path: str, errors: Errors) -> Mapping:
    if not isinstance(value, Mapping):
        errors.add(path, "must be an object")
        return {}
    return value


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _criterion_value(raw: Any, op: str, kind: str, path: str, errors: Errors) -> Any:
    number_spec = NumberSpec("value", -1e15, 1e15, whole=False)
    if op == "in":
        items = _as_list(raw)
        if not items:
            errors.add(path, "needs at least one value (separate several with commas)")
            return []
        if kind == "number":
            cleaned = [clean_number(item, number_spec, path, errors) for item in items]
            return cleaned
        cleaned = [str(item).strip() for item in items if str(item).strip()]
        if len({item.lower() for item in cleaned}) != len(cleaned):
            errors.add(path, "lists a value twice")
        if any(len(item) > 200 for item in cleaned):
            errors.add(path, "has a value longer than 200 characters")
        return cleaned
    if isinstance(raw, list | tuple | Mapping):
        errors.add(
            path, f"must be a single value for “{OP_WORDS[op]}” (use “is one of” for a list)"
        )
        return None
    if kind == "number":
        return clean_number(raw, number_spec, path, errors)
    return _clean_text(None if raw is None else str(raw), path, errors, max_length=200)


def clean_criterion(raw: Any, index: int, catalog: Catalog, errors: Errors) -> dict:
    path = f"icp.{index}"
    raw = _as_mapping(raw, path, errors)
    name = raw.get("field")
    kind = catalog.fields.get(name) if isinstance(name, str) else None
    if kind is None:
        errors.add(
            f"{path}.field",
            f"unknown lead field {name!r}; use one of {', '.join(sorted(catalog.fields))}"
            if name not in (None, "")
            else "is required",
        )
    op = raw.get("op")
    if op not in OPS:
        errors.add(
            f"{path}.op",
            f"unknown operator {op!r}; use one of {', '.join(OPS)}"
            if op not in (None, "")
            else "is required",
        )
    elif kind is not None and op not in OPS_BY_KIND[kind]:
        errors.add(
            f"{path}.op",
            f"“{OP_WORDS[op]}” does not apply to {kind} field {name!r}; use one of "
            f"{', '.join(OPS_BY_KIND[kind])}",
        )
    value = raw.get("value")
    if kind is not None and op in OPS_BY_KIND.get(kind, ()):
        value = _criterion_value(value, op, kind, f"{path}.value", errors)
    step = clean_number(
        raw.get("step"), NumberSpec("step", -MAX_STEP, MAX_STEP), f"{path}.step", errors
    )
    if step == 0:
        errors.add(f"{path}.step", "cannot be 0: a criterion must move the grade up or down")
    label = _clean_text(raw.get("label"), f"{path}.label", errors, max_length=100)
    return {"field": name, "op": op, "value": value, "step": step, "label": label}


def clean_icp(raw: Any, catalog: Catalog, errors: Errors) -> list[dict]:
    if not isinstance(raw, list):
        errors.add("icp", "must be a list of criteria")
        return []
    if len(raw) > MAX_CRITERIA:
        errors.add("icp", f"has {len(raw)} criteria; at most {MAX_CRITERIA}")
    criteria = [clean_criterion(item, i, catalog, errors) for i, item in enumerate(raw)]
    seen: set[str] = set()
    for i, criterion in enumerate(criteria):
        key = criterion["label"].lower()
        if key and key in seen:
            errors.add(f"icp.{i}.label", f"“{criterion['label']}” is used by another criterion")
        seen.add(key)
    return criteria


def clean_engagement(raw: Any, catalog: Catalog, errors: Errors) -> dict:
    raw = _as_mapping(raw, "engagement", errors)
    points_raw = _as_mapping(raw.get("points", {}), "engagement.points", errors)
    for name in points_raw:
        if name not in catalog.touch_types:
            errors.add(
                f"engagement.points.{name}",
                f"unknown touch type {name!r}; use one of {', '.join(catalog.touch_types)}",
            )
    points = {
        name: clean_number(
            points_raw.get(name, 0), POINTS_SPEC, f"engagement.points.{name}", errors
        )
        for name in catalog.touch_types
    }
    caps = _clean_caps(raw.get("caps", {}), catalog, errors)
    half_life = clean_number(
        raw.get("half_life_days"), HALF_LIFE_SPEC, "engagement.half_life_days", errors
    )
    for key in raw:
        if key not in ("points", "caps", "half_life_days"):
            errors.add(f"engagement.{key}", "is not an engagement setting")
    return {"points": points, "caps": caps, "half_life_days": half_life}


def _clean_caps(raw: Any, catalog: Catalog, errors: Errors) -> dict:
    raw = _as_mapping(raw, "engagement.caps", errors)
    caps: dict[str, dict] = {}
    capped_by: dict[str, str] = {}
    for name, spec in raw.items():
        path = f"engagement.caps.{name}"
        if not isinstance(name, str) or not _SLUG.match(name):
            errors.add(path, "a cap group name is lower-case letters, digits and _")
        spec = _as_mapping(spec, path, errors)
        types = _as_list(spec.get("types"))
        if not types:
            errors.add(f"{path}.types", "needs at least one touch type")
            types = []
        for touch in types:
            if touch not in catalog.touch_types:
                errors.add(f"{path}.types", f"unknown touch type {touch!r}")
            elif touch in capped_by:
                errors.add(f"{path}.types", f"{touch!r} is already capped by “{capped_by[touch]}”")
            else:
                capped_by[touch] = name
        maximum = clean_number(spec.get("max"), CAP_SPEC, f"{path}.max", errors)
        caps[name] = {"types": list(types), "max": maximum}
    return caps


def clean_mql_rule(raw: Any, catalog: Catalog, errors: Errors) -> dict:
    raw = _as_mapping(raw, "mql_rule", errors)
    engagement = clean_number(
        raw.get("min_engagement"), MQL_SPEC, "mql_rule.min_engagement", errors
    )
    grade = raw.get("min_fit_grade")
    if grade not in catalog.grades:
        errors.add(
            "mql_rule.min_fit_grade",
            f"{grade!r} is not a grade; use one of {', '.join(catalog.grades)}",
        )
    return {"min_engagement": engagement, "min_fit_grade": grade}


def clean_sql_rule(raw: Any, errors: Errors) -> dict:
    raw = _as_mapping(raw, "sql_rule", errors)
    requires = _as_list(raw.get("requires"))
    if not requires:
        errors.add("sql_rule.requires", "needs at least one criterion sales confirms (e.g. budget)")
        requires = []
    for item in requires:
        if not isinstance(item, str) or not _SLUG.match(item):
            errors.add(
                "sql_rule.requires",
                f"{item!r} is not a criterion name (lower-case letters, digits and _)",
            )
    if len(set(requires)) != len(requires):
        errors.add("sql_rule.requires", "lists a criterion twice")
    spec = NumberSpec("SQL confirmations", 1, max(len(requires), 1))
    confirmed = clean_number(raw.get("min_confirmed"), spec, "sql_rule.min_confirmed", errors)
    return {"requires": requires, "min_confirmed": confirmed}


def clean_sla(raw: Any, errors: Errors) -> dict:
    raw = _as_mapping(raw, "sla", errors)
    for key in raw:
        if key not in SLA_SPECS:
            errors.add(f"sla.{key}", f"unknown SLA setting; use {', '.join(SLA_SPECS)}")
    sla = {
        key: clean_number(raw.get(key), spec, f"sla.{key}", errors)
        for key, spec in SLA_SPECS.items()
    }
    warn, first = sla["warn_before_minutes"], sla["first_touch_minutes"]
    if warn is not None and first is not None and warn >= first:
        errors.add(
            "sla.warn_before_minutes",
            f"must be less than the first-touch SLA ({first} minutes), or the warning "
            "comes before the lead arrives",
        )
    return sla


def clean_stages(raw: Any, catalog: Catalog, errors: Errors) -> list[dict]:
    if not isinstance(raw, list):
        errors.add("stages", "must be a list of stages")
        return []
    given: dict[str, dict] = {}
    for item in raw:
        item = item if isinstance(item, Mapping) else {}
        stage = item.get("stage")
        if stage not in catalog.stages:
            errors.add("stages", f"unknown lifecycle stage {stage!r}")
        elif stage in given:
            errors.add("stages", f"stage {stage!r} is described twice")
        else:
            given[stage] = item
    missing = [stage for stage in catalog.stages if stage not in given]
    if missing:
        errors.add("stages", f"missing stages: {', '.join(missing)}")
    return [
        {
            "stage": stage,
            "label": _clean_text(
                given.get(stage, {}).get("label"), f"stages.{stage}.label", errors, max_length=60
            ),
            "entry": _clean_text(
                given.get(stage, {}).get("entry"), f"stages.{stage}.entry", errors, max_length=500
            ),
            "next": _clean_next(given.get(stage, {}).get("next"), stage, catalog, errors),
        }
        for stage in catalog.stages
    ]


def _clean_next(raw: Any, stage: str, catalog: Catalog, errors: Errors) -> list[str]:
    moves, problem = clean_moves(raw, stage, catalog.stages)
    if problem:
        errors.add(f"stages.{stage}.next", problem)
    return moves


def validate_contract(raw: Any, catalog: Catalog) -> tuple[dict, dict[str, str]]:
    """Check and normalise a contract body.

    Input: a mapping shaped like `defaults.DEFAULT_CONTRACT`; numbers may be text ("40"), lists
    may be comma-separated text. Output: (cleaned body, errors) where errors maps the path of
    each bad value to a sentence saying what is wrong; the body is usable only without errors.
    """
    errors = Errors()
    if not isinstance(raw, Mapping):
        errors.add("body", "must be an object with the sections " + ", ".join(SECTIONS))
        return {}, dict(errors)
    for key in raw:
        if key not in SECTIONS:
            errors.add(key, f"is not a contract section; use {', '.join(SECTIONS)}")
    cleaners = {
        "icp": lambda v: clean_icp(v, catalog, errors),
        "engagement": lambda v: clean_engagement(v, catalog, errors),
        "mql_rule": lambda v: clean_mql_rule(v, catalog, errors),
        "sql_rule": lambda v: clean_sql_rule(v, errors),
        "sla": lambda v: clean_sla(v, errors),
        "stages": lambda v: clean_stages(v, catalog, errors),
    }
    body = {}
    for key, clean in cleaners.items():
        if key in raw:
            body[key] = clean(raw[key])
        else:
            errors.add(key, "is required")  # one error for the section, not one per field
    return body, dict(errors)


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


def _value_words(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value_words(v) for v in value)
    if isinstance(value, float):
        return _format(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def describe_criterion(criterion: Mapping[str, Any], catalog: Catalog) -> str:
    """E.g. "Employees ≥ 200" or "Email contains “@gmail.”"."""
    name = catalog.field_label(str(criterion.get("field")))
    op, value = criterion.get("op"), criterion.get("value")
    if op == "contains":
        return f"{name} contains “{value}”"
    return f"{name} {OP_WORDS.get(op, op)} {_value_words(value)}"


def describe_number(value: Any, spec: NumberSpec) -> str:
    if value is None:
        return "—"
    if spec.unit == "share":
        return f"{float(value):.0%}"
    words = _value_words(value)
    return f"{words} {spec.unit}".strip() if spec.unit in ("days", "attempts") else words


# --------------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One readable difference between two contract bodies."""

    section: str  # "ICP", "Engagement", "MQL rule", "SQL rule", "SLA", "Stages"
    kind: str  # "added", "removed", "changed"
    text: str  # "MQL minimum engagement 40 → 50"
    path: str  # where in the body: "mql_rule.min_engagement", "icp[Industry we win in]"

    def as_dict(self) -> dict:
        return {"section": self.section, "kind": self.kind, "text": self.text, "path": self.path}


def _arrow(label: str, old: Any, new: Any) -> str:
    return f"{label} {old} → {new}"


def diff_contracts(
    old: Mapping[str, Any], new: Mapping[str, Any], catalog: Catalog
) -> list[Change]:
    """Field-by-field differences from `old` to `new`, in the order a reader scans a contract.

    Criteria are matched by label (then by field and operator when a label changed), so a
    reordered list is not a change and an edited criterion reads as one change, not two.
    """
    return [
        *_diff_icp(old.get("icp", []), new.get("icp", []), catalog),
        *_diff_engagement(old.get("engagement", {}), new.get("engagement", {}), catalog),
        *_diff_mql(old.get("mql_rule", {}), new.get("mql_rule", {})),
        *_diff_sql(old.get("sql_rule", {}), new.get("sql_rule", {})),
        *_diff_sla(old.get("sla", {}), new.get("sla", {})),
        *_diff_stages(old.get("stages", []), new.get("stages", []), catalog),
    ]


def _pair_criteria(old: list[dict], new: list[dict]) -> tuple[list, list, list]:
    """(pairs, removed, added) with criteria matched by label, then by (field, op)."""
    left, right = list(old), list(new)
    pairs = []
    for key in (lambda c: str(c.get("label", "")).lower(), lambda c: (c.get("field"), c.get("op"))):
        for criterion in list(right):
            match = next((o for o in left if key(o) == key(criterion)), None)
            if match is not None:
                pairs.append((match, criterion))
                left.remove(match)
                right.remove(criterion)
    return pairs, left, right


def _diff_icp(old: list[dict], new: list[dict], catalog: Catalog) -> list[Change]:
    pairs, removed, added = _pair_criteria(old, new)
    changes = []
    for criterion in removed:
        changes.append(
            Change(
                "ICP",
                "removed",
                f"ICP criterion removed: “{criterion.get('label')}” "
                f"({describe_criterion(criterion, catalog)}, "
                f"{describe_step(criterion.get('step') or 0)})",
                f"icp[{criterion.get('label')}]",
            )
        )
    for criterion in added:
        changes.append(
            Change(
                "ICP",
                "added",
                f"ICP criterion added: “{criterion.get('label')}” "
                f"({describe_criterion(criterion, catalog)}, "
                f"{describe_step(criterion.get('step') or 0)})",
                f"icp[{criterion.get('label')}]",
            )
        )
    for before, after in pairs:
        changes.extend(_diff_criterion(before, after, catalog))
    return changes


def _diff_criterion(before: dict, after: dict, catalog: Catalog) -> list[Change]:
    name = f"ICP “{after.get('label')}”"
    path = f"icp[{after.get('label')}]"
    changes = []
    if before.get("label") != after.get("label"):
        changes.append(
            Change(
                "ICP",
                "changed",
                _arrow(
                    "ICP criterion renamed", f"“{before.get('label')}”", f"“{after.get('label')}”"
                ),
                path,
            )
        )
    if (before.get("field"), before.get("op"), before.get("value")) != (
        after.get("field"),
        after.get("op"),
        after.get("value"),
    ):
        changes.append(
            Change(
                "ICP",
                "changed",
                _arrow(
                    f"{name} condition",
                    describe_criterion(before, catalog),
                    describe_criterion(after, catalog),
                ),
                path,
            )
        )
    if before.get("step") != after.get("step"):
        changes.append(
            Change(
                "ICP",
                "changed",
                _arrow(
                    f"{name} step",
                    describe_step(before.get("step") or 0),
                    describe_step(after.get("step") or 0),
                ),
                path,
            )
        )
    return changes


def _diff_engagement(old: Mapping, new: Mapping, catalog: Catalog) -> list[Change]:
    changes = []
    old_points, new_points = old.get("points", {}), new.get("points", {})
    for name in dict.fromkeys([*old_points, *new_points]):
        before, after = old_points.get(name, 0), new_points.get(name, 0)
        if before != after:
            changes.append(
                Change(
                    "Engagement",
                    "changed",
                    _arrow(
                        f"Points for {catalog.touch_label(name).lower()}",
                        _value_words(before),
                        _value_words(after),
                    ),
                    f"engagement.points.{name}",
                )
            )
    old_caps, new_caps = old.get("caps", {}), new.get("caps", {})
    for name in dict.fromkeys([*old_caps, *new_caps]):
        path = f"engagement.caps.{name}"
        before, after = old_caps.get(name), new_caps.get(name)
        if before is None:
            changes.append(
                Change(
                    "Engagement",
                    "added",
                    f"Cap added: “{name}” ({_cap_words(after, catalog)})",
                    path,
                )
            )
        elif after is None:
            changes.append(
                Change(
                    "Engagement",
                    "removed",
                    f"Cap removed: “{name}” ({_cap_words(before, catalog)})",
                    path,
                )
            )
        elif before != after:
            changes.append(
                Change(
                    "Engagement",
                    "changed",
                    _arrow(
                        f"Cap “{name}”", _cap_words(before, catalog), _cap_words(after, catalog)
                    ),
                    path,
                )
            )
    if old.get("half_life_days") != new.get("half_life_days"):
        changes.append(
            Change(
                "Engagement",
                "changed",
                _arrow(
                    "Engagement half-life",
                    describe_number(old.get("half_life_days"), HALF_LIFE_SPEC),
                    describe_number(new.get("half_life_days"), HALF_LIFE_SPEC),
                ),
                "engagement.half_life_days",
            )
        )
    return changes


def _cap_words(cap: Mapping, catalog: Catalog) -> str:
    types = ", ".join(catalog.touch_label(t).lower() for t in cap.get("types", []))
    return f"{types} at most {_value_words(cap.get('max'))} points"


def _diff_mql(old: Mapping, new: Mapping) -> list[Change]:
    changes = []
    if old.get("min_engagement") != new.get("min_engagement"):
        changes.append(
            Change(
                "MQL rule",
                "changed",
                _arrow(
                    "MQL minimum engagement",
                    _value_words(old.get("min_engagement")),
                    _value_words(new.get("min_engagement")),
                ),
                "mql_rule.min_engagement",
            )
        )
    if old.get("min_fit_grade") != new.get("min_fit_grade"):
        changes.append(
            Change(
                "MQL rule",
                "changed",
                _arrow("MQL minimum fit grade", old.get("min_fit_grade"), new.get("min_fit_grade")),
                "mql_rule.min_fit_grade",
            )
        )
    return changes


def _diff_sql(old: Mapping, new: Mapping) -> list[Change]:
    changes = []
    before, after = old.get("requires", []), new.get("requires", [])
    for item in after:
        if item not in before:
            changes.append(
                Change("SQL rule", "added", f"SQL criterion added: {item}", "sql_rule.requires")
            )
    for item in before:
        if item not in after:
            changes.append(
                Change("SQL rule", "removed", f"SQL criterion removed: {item}", "sql_rule.requires")
            )
    if old.get("min_confirmed") != new.get("min_confirmed"):
        changes.append(
            Change(
                "SQL rule",
                "changed",
                _arrow(
                    "SQL criteria to confirm", old.get("min_confirmed"), new.get("min_confirmed")
                ),
                "sql_rule.min_confirmed",
            )
        )
    return changes


def _diff_sla(old: Mapping, new: Mapping) -> list[Change]:
    changes = []
    for key, spec in SLA_SPECS.items():
        if old.get(key) != new.get(key):
            label = f"SLA {spec.label[0].lower()}{spec.label[1:]}"
            if spec.unit and spec.unit not in ("days", "attempts", "share"):
                label += f" ({spec.unit})"
            changes.append(
                Change(
                    "SLA",
                    "changed",
                    _arrow(
                        label,
                        describe_number(old.get(key), spec),
                        describe_number(new.get(key), spec),
                    ),
                    f"sla.{key}",
                )
            )
    return changes


def _moves(stage: Mapping) -> list[str]:
    # Contracts signed before `next` existed move as the starting contract does.
    found = stage.get("next")
    return list(found) if isinstance(found, list) else default_moves(str(stage.get("stage")))


def _diff_stages(old: list, new: list, catalog: Catalog) -> list[Change]:
    before = {s.get("stage"): s for s in old if isinstance(s, Mapping)}
    changes = []
    for stage in new:
        name = stage.get("stage")
        prior = before.get(name)
        if prior is None:
            changes.append(
                Change(
                    "Stages", "added", f"Stage described: {stage.get('label')}", f"stages.{name}"
                )
            )
            continue
        if prior.get("label") != stage.get("label"):
            changes.append(
                Change(
                    "Stages",
                    "changed",
                    _arrow(
                        f"Stage {name} name", f"“{prior.get('label')}”", f"“{stage.get('label')}”"
                    ),
                    f"stages.{name}.label",
                )
            )
        if _moves(prior) != _moves(stage):
            changes.append(
                Change(
                    "Stages",
                    "changed",
                    _arrow(
                        f"{stage.get('label')} moves to",
                        ", ".join(_moves(prior)) or "nowhere",
                        ", ".join(_moves(stage)) or "nowhere",
                    ),
                    f"stages.{name}.next",
                )
            )
        if prior.get("entry") != stage.get("entry"):
            changes.append(
                Change(
                    "Stages",
                    "changed",
                    _arrow(
                        f"{stage.get('label')} entry rule",
                        f"“{prior.get('entry')}”",
                        f"“{stage.get('entry')}”",
                    ),
                    f"stages.{name}.entry",
                )
            )
    return changes


# --------------------------------------------------------------------------------------------
# The agreement both teams read and print
# --------------------------------------------------------------------------------------------


def describe_contract(body: Mapping[str, Any], catalog: Catalog) -> dict:
    """The contract as sentences and rows for the one-page agreement."""
    engagement, mql, sql, sla = body["engagement"], body["mql_rule"], body["sql_rule"], body["sla"]
    labels = {s["stage"]: s["label"] for s in body.get("stages", [])}
    return {
        "criteria": [
            {
                "label": c["label"],
                "condition": describe_criterion(c, catalog),
                "effect": describe_step(c["step"]),
                "up": c["step"] > 0,
            }
            for c in body["icp"]
        ],
        "stages": [
            {**s, "moves": ", ".join(labels.get(m, m) for m in _moves(s))}
            for s in body.get("stages", [])
        ],
        "mql": (
            f"A lead becomes a {labels.get('mql', 'MQL')} when its fit grade is "
            f"{mql['min_fit_grade']} or better and its engagement score is at least "
            f"{_value_words(mql['min_engagement'])} points."
        ),
        "sql": (
            f"A lead is a {labels.get('sql', 'SQL')} when the rep has confirmed at least "
            f"{sql['min_confirmed']} of: {', '.join(sql['requires'])}."
        ),
        "points": [
            {"type": catalog.touch_label(t), "points": _value_words(p)}
            for t, p in engagement["points"].items()
            if p
        ],
        "caps": [
            {"name": name, "words": _cap_words(cap, catalog)}
            for name, cap in engagement["caps"].items()
        ],
        "half_life": (
            f"Engagement halves every {_value_words(engagement['half_life_days'])} days: a touch "
            f"{_value_words(engagement['half_life_days'])} days old counts half as much as today's."
        ),
        "sales_promises": [
            f"Make the first touch within {_value_words(sla['first_touch_minutes'])} working "
            "minutes of a lead becoming an MQL.",
            f"Make {sla['attempts']} contact attempts within {sla['attempts_days']} days before "
            "recycling a lead that does not answer.",
            f"Accept or reject every MQL with a reason; leads stay with their owner for "
            f"{sla['ownership_protect_days']} days after the last touch.",
        ],
        "marketing_promises": [
            f"Deliver {sla['mql_per_rep_month']} MQLs per rep per month.",
            f"Keep quality above the floor: at least {float(sla['accept_rate_floor']):.0%} of "
            "delivered MQLs are accepted by sales.",
        ],
        "warning": (
            f"Both sides are warned {_value_words(sla['warn_before_minutes'])} minutes before an "
            "SLA falls due."
        ),
    }
