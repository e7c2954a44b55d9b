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

_ROW = re.compile(r"^(icp|engagement\.caps)\.(\d+)\.(\w+)$")
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
    return body, errors


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
        "other_errors": {
            path: message
            for path, message in errors.items()
            if path.split(".")[0]
            not in ("icp", "engagement", "mql_rule", "sql_rule", "sla", "stages")
        },
    }
