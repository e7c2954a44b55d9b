"""The contract editor form: POST data ⇄ contract body, and the rows the template draws.

Inputs are named by the path of the value they edit (`mql_rule.min_engagement`,
`icp.3.step`, `sla.attempts`, …), the same paths `rules.validate_contract` reports errors
under, so each error lands beside its input. Criteria and cap groups are rows: the posted row
indices may have gaps (rows removed in the browser) and are renumbered in order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict

from closedloop.definitions.rules import OP_WORDS, OPS, SLA_SPECS, Catalog
from closedloop.lifecycle import default_moves
from closedloop.pipeline import DEFAULT_PIPELINE

_ROW = re.compile(r"^(icp|engagement\.caps)\.(\d+)\.(\w+)$")
_PIPELINE_ROW = re.compile(r"^pipeline\.stages\.(\d+)\.(code|label|probability|order)$")
PIPELINE_KEYS = ("code", "label", "probability")
NEW_PIPELINE_ROWS = 2  # blank rows to add open stages
CRITERION_KEYS = ("field", "op", "value", "step", "label")


def body_from_post(data: QueryDict, catalog: Catalog) -> tuple[dict, dict[str, str]]:
    """A raw contract body from the editor's POST (values still text), and row-level errors
    that only the form can make (two cap groups with one name)."""
    rows: dict[str, dict[int, dict]] = {"icp": {}, "engagement.caps": {}}
    for key in data:
        match = _ROW.match(key)
        if match:
            group, index, name = match.groups()
            value = data.getlist(key) if name == "types" else data.get(key, "")
            rows[group].setdefault(int(index), {})[name] = value
    criteria = [
        {k: row.get(k, "") for k in CRITERION_KEYS}
        for _, row in sorted(rows["icp"].items())
        if any(str(row.get(k, "")).strip() for k in ("field", "value", "label"))
    ]
    errors: dict[str, str] = {}
    caps: dict[str, dict] = {}
    for _, row in sorted(rows["engagement.caps"].items()):
        name = str(row.get("name", "")).strip()
        if not name and not str(row.get("max", "")).strip() and not row.get("types"):
            continue  # the blank row for a new group, left blank
        if name in caps:
            errors[f"engagement.caps.{name}"] = f"two cap groups are named “{name}”"
        caps[name] = {"types": row.get("types", []), "max": row.get("max", "")}
    body = {
        "icp": criteria,
        "engagement": {
            "points": {t: data.get(f"engagement.points.{t}", "") for t in catalog.touch_types},
            "caps": caps,
            "half_life_days": data.get("engagement.half_life_days", ""),
        },
        "mql_rule": {
            "min_engagement": data.get("mql_rule.min_engagement", ""),
            "min_fit_grade": data.get("mql_rule.min_fit_grade", ""),
        },
        "sql_rule": {
            "requires": data.get("sql_rule.requires", ""),
            "min_confirmed": data.get("sql_rule.min_confirmed", ""),
        },
        "sla": {key: data.get(f"sla.{key}", "") for key in SLA_SPECS},
        "stages": [
            {
                "stage": s,
                "label": data.get(f"stages.{s}.label", ""),
                "entry": data.get(f"stages.{s}.entry", ""),
                "next": data.get(f"stages.{s}.next"),
            }
            for s in catalog.stages
        ],
    }
    if any(_PIPELINE_ROW.match(key) for key in data):
        body["pipeline"] = {"stages": pipeline_from_post(data)}
    return body, errors


def pipeline_from_post(data: QueryDict) -> list[dict]:
    """The pipeline's stage rows as posted, in the order their "order" numbers give (rows
    without one keep their place); rows left blank (the new-stage rows) are dropped."""
    rows: dict[int, dict] = {}
    for key in data:
        match = _PIPELINE_ROW.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = data.get(key, "").strip()
    kept = [
        (index, row)
        for index, row in sorted(rows.items())
        if any(row.get(k) for k in PIPELINE_KEYS)
    ]
    kept.sort(key=lambda item: (_order(item[1].get("order"), item[0]), item[0]))
    return [{k: row.get(k, "") for k in PIPELINE_KEYS} for _, row in kept]


def _order(raw: str | None, index: int) -> float:
    try:
        return float(raw) if raw else float(index + 1)
    except ValueError:
        return float(index + 1)


# --------------------------------------------------------------------------------------------
# What the template draws
# --------------------------------------------------------------------------------------------


def _moves_text(stage: Mapping, name: str) -> str:
    moves = stage.get("next")
    if isinstance(moves, str):
        return moves  # as typed, shown again with its error
    return ", ".join(moves if isinstance(moves, list) else default_moves(name))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _input(name: str, value: Any, errors: Mapping[str, str]) -> dict:
    return {"name": name, "value": _text(value), "error": errors.get(name, "")}


def criterion_row(
    index: int, criterion: Mapping, errors: Mapping[str, str], catalog: Catalog
) -> dict:
    prefix = f"icp.{index}"
    row = {key: _input(f"{prefix}.{key}", criterion.get(key), errors) for key in CRITERION_KEYS}
    row["index"] = index
    row["error"] = errors.get(prefix, "")
    row["field_options"] = [
        (name, catalog.field_label(name), name == criterion.get("field")) for name in catalog.fields
    ]
    row["op_options"] = [(op, OP_WORDS[op], op == criterion.get("op")) for op in OPS]
    return row


def cap_row(
    index: int, name: str, cap: Mapping, errors: Mapping[str, str], catalog: Catalog
) -> dict:
    path = f"engagement.caps.{name}"
    chosen = cap.get("types") or []
    return {
        "index": index,
        "name": {
            "name": f"engagement.caps.{index}.name",
            "value": name,
            "error": errors.get(path, ""),
        },
        "max": {
            "name": f"engagement.caps.{index}.max",
            "value": _text(cap.get("max")),
            "error": errors.get(f"{path}.max", ""),
        },
        "types_name": f"engagement.caps.{index}.types",
        "types_error": errors.get(f"{path}.types", ""),
        "types": [(t, catalog.touch_label(t), t in chosen) for t in catalog.touch_types],
    }


def pipeline_context(section: Any, errors: Mapping[str, str]) -> dict:
    """The pipeline's rows (with blank rows to add open stages) and its section error."""
    stages = section.get("stages", []) if isinstance(section, Mapping) else []
    rows = [_pipeline_row(i, stage, errors) for i, stage in enumerate(stages)]
    rows += [_pipeline_row(len(rows) + j, {}, {}) for j in range(NEW_PIPELINE_ROWS)]
    return {"pipeline": rows, "pipeline_error": errors.get("pipeline.stages", "")}


def _pipeline_row(index: int, stage: Mapping, errors: Mapping[str, str]) -> dict:
    prefix = f"pipeline.stages.{index}"
    row = {key: _input(f"{prefix}.{key}", stage.get(key), errors) for key in PIPELINE_KEYS}
    row["order"] = {"name": f"{prefix}.order", "value": str(index + 1)}
    row["closed"] = stage.get("code") in ("won", "lost")
    row["new"] = not stage
    return row


def editor_context(body: Mapping, errors: Mapping[str, str], catalog: Catalog) -> dict:
    """Everything the editor template needs, with each input's current text and its error."""
    criteria = [criterion_row(i, c, errors, catalog) for i, c in enumerate(body.get("icp", []))]
    engagement = body.get("engagement", {})
    caps = [
        cap_row(j, name, cap, errors, catalog)
        for j, (name, cap) in enumerate(engagement.get("caps", {}).items())
    ]
    caps.append(cap_row(len(caps), "", {}, {}, catalog))  # a blank row to add a group
    points = engagement.get("points", {})
    mql, sql = body.get("mql_rule", {}), body.get("sql_rule", {})
    stages = {s.get("stage"): s for s in body.get("stages", []) if isinstance(s, Mapping)}
    return {
        "criteria": criteria,
        "next_index": len(criteria),
        "icp_error": errors.get("icp", ""),
        "points": [
            {
                **_input(f"engagement.points.{t}", points.get(t, 0), errors),
                "label": catalog.touch_label(t),
            }
            for t in catalog.touch_types
        ],
        "caps": caps,
        "half_life": _input("engagement.half_life_days", engagement.get("half_life_days"), errors),
        "min_engagement": _input("mql_rule.min_engagement", mql.get("min_engagement"), errors),
        "min_fit_grade": {
            **_input("mql_rule.min_fit_grade", mql.get("min_fit_grade"), errors),
            "options": [(g, g == mql.get("min_fit_grade")) for g in reversed(catalog.grades)],
        },
        "requires": _input("sql_rule.requires", sql.get("requires"), errors),
        "min_confirmed": _input("sql_rule.min_confirmed", sql.get("min_confirmed"), errors),
        "sla": [
            {
                **_input(f"sla.{key}", body.get("sla", {}).get(key), errors),
                "label": spec.label,
                "unit": spec.unit,
                "step": "1" if spec.whole else "any",
            }
            for key, spec in SLA_SPECS.items()
        ],
        "stages": [
            {
                "stage": s,
                "stage_label": catalog.stage_labels.get(s, s),
                "label": _input(f"stages.{s}.label", stages.get(s, {}).get("label"), errors),
                "entry": _input(f"stages.{s}.entry", stages.get(s, {}).get("entry"), errors),
                "next": _input(f"stages.{s}.next", _moves_text(stages.get(s, {}), s), errors),
            }
            for s in catalog.stages
        ],
        "stages_error": errors.get("stages", ""),
        # A contract signed before the pipeline existed is edited from the default one.
        **pipeline_context(body.get("pipeline", DEFAULT_PIPELINE), errors),
        "other_errors": {
            path: message
            for path, message in errors.items()
            if path.split(".")[0]
            not in ("icp", "engagement", "mql_rule", "sql_rule", "sla", "stages", "pipeline")
        },
    }
