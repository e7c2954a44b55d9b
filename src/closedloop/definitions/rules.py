"""Validation of a definitions contract body. No Django here (the diff and the plain-words
agreement are in `wording.py`).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from closedloop import pipeline
from closedloop.lifecycle import clean_moves
from closedloop.vocabulary import GRADES

OPS: tuple[str, ...] = ("eq", "in", "gte", "lte", "contains")
OP_WORDS = {"eq": "is", "in": "is one of", "gte": "≥", "lte": "≤", "contains": "contains"}
# Comparisons make sense for numbers, substrings for text.
OPS_BY_KIND = {"number": ("eq", "in", "gte", "lte"), "text": ("eq", "in", "contains")}
MAX_STEP = 12  # thirds of a letter: F → A+ is 12 steps
MAX_CRITERIA = 50
SECTIONS = ("icp", "engagement", "mql_rule", "sql_rule", "sla", "stages", "pipeline")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_STAGE_CODE = re.compile(rf"^[a-z][a-z0-9_]{{0,{pipeline.CODE_LENGTH - 1}}}$")


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
PROBABILITY_SPEC = NumberSpec("Probability", 0, 100, unit="%")
# The closed stages' fixed codes and probabilities (pipeline.py says why the codes are fixed).
CLOSED_STAGES = {pipeline.WON: 100, pipeline.LOST: 0}


class Errors(dict[str, str]):
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


def format_number(number: float) -> str:
    """5.0 → "5", 0.25 → "0.25": whole numbers without a decimal point."""
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
        errors.add(path, f"must be a whole number, not {format_number(number)}")
        return None
    if number < spec.minimum:
        word = "negative" if spec.minimum == 0 else f"below {format_number(spec.minimum)}"
        errors.add(path, f"cannot be {word} (got {format_number(number)})")
        return None
    if number > spec.maximum:
        errors.add(
            path, f"cannot be more than {format_number(spec.maximum)} (got {format_number(number)})"
        )
        return None
    return int(number) if spec.whole or number.is_integer() else number


def _clean_text(
    value: Any, path: str, errors: Errors, *, max_length: int, required: bool = True
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(path, f"must be text, not {value!r}")
        return ""
    text = value.strip()
    if required and not text:
        errors.add(path, "is required")
    elif len(text) > max_length:
        errors.add(path, f"is too long ({len(text)} characters; at most {max_length})")
    return text


def _as_list(value: Any) -> list[Any] | None:
    """A list from a JSON list or from comma-separated text (what a form sends)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return None


def _as_mapping(value: Any, path: str, errors: Errors) -> Mapping[str, Any]:
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
            return [clean_number(item, number_spec, path, errors) for item in items]
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


def clean_criterion(raw: Any, index: int, catalog: Catalog, errors: Errors) -> dict[str, Any]:
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


def clean_icp(raw: Any, catalog: Catalog, errors: Errors) -> list[dict[str, Any]]:
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


def clean_engagement(raw: Any, catalog: Catalog, errors: Errors) -> dict[str, Any]:
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


def _clean_caps(raw: Any, catalog: Catalog, errors: Errors) -> dict[str, Any]:
    raw = _as_mapping(raw, "engagement.caps", errors)
    caps: dict[str, dict[str, Any]] = {}
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


def clean_mql_rule(raw: Any, catalog: Catalog, errors: Errors) -> dict[str, Any]:
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


def clean_sql_rule(raw: Any, errors: Errors) -> dict[str, Any]:
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


def clean_sla(raw: Any, errors: Errors) -> dict[str, Any]:
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


def clean_stages(raw: Any, catalog: Catalog, errors: Errors) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        errors.add("stages", "must be a list of stages")
        return []
    given: dict[str, dict[str, Any]] = {}
    for raw_item in raw:
        item: dict[str, Any] = dict(raw_item) if isinstance(raw_item, Mapping) else {}
        stage = item.get("stage")
        if not isinstance(stage, str) or stage not in catalog.stages:
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


def clean_pipeline(raw: Any, errors: Errors) -> dict[str, Any]:
    """The opportunity pipeline: open stages in order, then `won` and `lost` (fixed codes,
    probabilities 100 and 0); each stage a code, a label and a probability in percent."""
    raw = _as_mapping(raw, "pipeline", errors)
    items = raw.get("stages")
    if not isinstance(items, list):
        errors.add("pipeline.stages", "must be a list of stages")
        return {"stages": []}
    if len(items) > pipeline.MAX_STAGES:
        errors.add("pipeline.stages", f"has {len(items)} stages; at most {pipeline.MAX_STAGES}")
    stages = [_clean_pipeline_stage(item, i, errors) for i, item in enumerate(items)]
    _check_pipeline_order(stages, errors)
    return {"stages": stages}


def _clean_pipeline_stage(raw: Any, index: int, errors: Errors) -> dict[str, Any]:
    path = f"pipeline.stages.{index}"
    raw = _as_mapping(raw, path, errors)
    code = raw.get("code")
    if not isinstance(code, str) or not _STAGE_CODE.match(code):
        errors.add(
            f"{path}.code",
            f"{code!r} is not a stage code (lower-case letters, digits and _, "
            f"at most {pipeline.CODE_LENGTH})",
        )
    label = _clean_text(raw.get("label"), f"{path}.label", errors, max_length=60)
    probability = clean_number(
        raw.get("probability"), PROBABILITY_SPEC, f"{path}.probability", errors
    )
    stage: dict[str, Any] = {"code": code, "label": label, "probability": probability}
    if code in CLOSED_STAGES:
        stage["outcome"] = code
        if probability is not None and probability != CLOSED_STAGES[code]:
            errors.add(
                f"{path}.probability",
                f"a {code} deal's probability is {CLOSED_STAGES[code]}, not {probability}",
            )
    elif raw.get("outcome"):
        errors.add(f"{path}.outcome", "only the stages won and lost close a deal")
    return stage


def _check_pipeline_order(stages: list[dict[str, Any]], errors: Errors) -> None:
    codes = [stage["code"] for stage in stages]
    for code in set(codes):
        if codes.count(code) > 1:
            errors.add("pipeline.stages", f"stage {code!r} is listed twice")
    missing = [code for code in CLOSED_STAGES if code not in codes]
    if missing:
        errors.add("pipeline.stages", f"needs the closing stages {' and '.join(missing)}")
    if not any(code not in CLOSED_STAGES for code in codes):
        errors.add("pipeline.stages", "needs at least one open stage for new deals")
    closed_at = [i for i, code in enumerate(codes) if code in CLOSED_STAGES]
    if closed_at and closed_at[0] < len(codes) - len(closed_at):
        errors.add("pipeline.stages", "the closing stages (won, lost) come after the open ones")


def validate_contract(raw: Any, catalog: Catalog) -> tuple[dict[str, Any], dict[str, str]]:
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
    cleaners: dict[str, Callable[[Any], Any]] = {
        "icp": lambda v: clean_icp(v, catalog, errors),
        "engagement": lambda v: clean_engagement(v, catalog, errors),
        "mql_rule": lambda v: clean_mql_rule(v, catalog, errors),
        "sql_rule": lambda v: clean_sql_rule(v, errors),
        "sla": lambda v: clean_sla(v, errors),
        "stages": lambda v: clean_stages(v, catalog, errors),
        "pipeline": lambda v: clean_pipeline(v, errors),
    }
    body: dict[str, Any] = {}
    for key, clean in cleaners.items():
        if key in raw:
            body[key] = clean(raw[key])
        elif key == "pipeline":  # contracts from before the pipeline existed get the default
            body[key] = clean(pipeline.DEFAULT_PIPELINE)
        else:
            errors.add(key, "is required")  # one error for the section, not one per field
    return body, dict(errors)
