"""What a definitions contract means in numbers: fit grades from the ICP criteria, decayed and
capped engagement, and the MQL rule. Pure: NumPy and Polars only, no Django.

The scorer (`scoring.engine`, `scoring.services`) applies these to every lead, and the what-if
simulation (`simulation.py`) replays them over past weeks, so both read a contract the same way.

Units: fit points are thirds of a letter grade; engagement is in contract points (a touch of a
type worth p points, t days old, counts p * 0.5 ** (t / half_life_days)).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from closedloop.definitions.contract import (
    CriterionValue,
    EngagementRules,
    IcpCriterion,
    MqlRule,
)
from closedloop.vocabulary import GRADES, STARTING_GRADE

_START = GRADES.index(STARTING_GRADE)
# Up to this many leads, plain Python beats array set-up costs (the one-lead rescore path).
SMALL = 64
_GRADE_INDEX = {grade: i for i, grade in enumerate(GRADES)}


# --------------------------------------------------------------------------------------------
# Fit grade
# --------------------------------------------------------------------------------------------


def as_series(values: Any) -> pl.Series:
    if isinstance(values, pl.Series):
        return values
    array = np.asarray(values) if not isinstance(values, list) else None
    if array is None or array.dtype == object:
        # Polars keeps object arrays as opaque Objects; a list lets it infer text or numbers.
        return pl.Series(values=list(values), strict=False)
    return pl.Series(values=array, strict=False)


def per_distinct(series: pl.Series, compute: Any) -> np.ndarray:
    """compute(values) for each row of a text `series`, computed once per distinct value.

    `compute` must work value by value (a row's result depends on that row's value only) and
    return one array entry per value. Lead columns such as industry or country hold a few
    dozen distinct values across a million leads, so the string work (lower-casing, trimming,
    matching) runs on those few and the results are gathered back to the rows. Columns with
    mostly distinct values (emails) are computed directly.
    """
    sample = series.gather(np.linspace(0, series.len() - 1, min(series.len(), 1000), dtype=int))
    if sample.n_unique() > sample.len() // 4:  # mostly distinct: nothing to share
        return np.asarray(compute(series))
    values = series.drop_nulls().unique()
    # Position of each row's value among `values` (the null entry goes last).
    physical = series.cast(pl.Enum(values)).to_physical().cast(pl.UInt32)
    codes = physical.fill_null(values.len()).to_numpy()
    values = values.extend(pl.Series([None], dtype=values.dtype))
    return np.asarray(np.asarray(compute(values))[codes])


def lower_text(series: pl.Series) -> pl.Series:
    """Lower-cased text with missing values as "" (a missing value matches no text criterion)."""
    return series.cast(pl.Utf8, strict=False).fill_null("").str.to_lowercase()


def _number(series: pl.Series) -> np.ndarray:
    """Float values with NaN for missing or non-numeric entries."""
    if series.dtype == pl.Utf8 or series.dtype == pl.String:
        # Thousands separators ("1,200") as _to_float reads them for a few leads.
        series = series.str.strip_chars().str.replace_all(",", "").cast(pl.Float64, strict=False)
    else:
        series = series.cast(pl.Float64, strict=False)
    return series.fill_null(np.nan).to_numpy()


def criterion_matches(column: Any, criterion: IcpCriterion) -> np.ndarray:
    """Boolean per lead: does `column` meet one ICP criterion {field, op, value}.

    ops: eq, in (case-insensitive text), gte, lte (numbers; missing never matches), contains
    (case-insensitive substring). Raises ValueError on an unknown op.
    """
    op, value = criterion.op, criterion.value
    if not isinstance(column, pl.Series) and len(column) <= SMALL:
        return np.array([_matches_one(v, op, value) for v in column], dtype=bool)
    series = as_series(column)
    if op in ("gte", "lte"):
        numbers = _number(series)
        with np.errstate(invalid="ignore"):
            hit = numbers >= _threshold(value) if op == "gte" else numbers <= _threshold(value)
        return np.asarray(hit & ~np.isnan(numbers), dtype=bool)
    text = lower_text(series)
    if op == "eq":
        return (text == str(value).lower()).to_numpy()
    if op == "in":
        wanted = [str(v).lower() for v in (value if isinstance(value, list | tuple) else [value])]
        return text.is_in(wanted).to_numpy()
    if op == "contains":
        needle = str(value).lower()
        if not needle:
            return np.zeros(len(text), dtype=bool)
        return text.str.contains(needle, literal=True).to_numpy()
    raise ValueError(f"unknown ICP criterion op {op!r} (use eq, in, gte, lte or contains)")


def _threshold(value: CriterionValue) -> float:
    """The number a gte/lte criterion compares with (validation made it a single number)."""
    if isinstance(value, tuple):
        raise ValueError(f"a comparison needs one number, not {value!r}")
    return float(value)


def _matches_one(raw: Any, op: str, value: Any) -> bool:
    """criterion_matches for one value: the same rules, without array overhead."""
    if op in ("gte", "lte"):
        number = to_float(raw)
        if number != number:  # NaN: missing never matches
            return False
        return number >= float(value) if op == "gte" else number <= float(value)
    text = "" if raw is None else str(raw).lower()
    if op == "eq":
        return text == str(value).lower()
    if op == "in":
        values = value if isinstance(value, list | tuple) else [value]
        return text in {str(v).lower() for v in values}
    if op == "contains":
        needle = str(value).lower()
        return bool(needle) and needle in text
    raise ValueError(f"unknown ICP criterion op {op!r} (use eq, in, gte, lte or contains)")


def to_float(raw: Any) -> float:
    if raw is None:
        return float("nan")
    if isinstance(raw, int | float | np.number):
        return float(raw)
    try:
        return float(str(raw).strip().replace(",", ""))
    except ValueError:
        return float("nan")


def fit_matches(
    columns: Mapping[str, Any], icp: Sequence[IcpCriterion], n_leads: int | None = None
) -> np.ndarray:
    """Matrix (leads × criteria) of booleans: which ICP criteria each lead meets.

    A criterion on a field absent from `columns` matches nobody.
    """
    if n_leads is None:
        n_leads = len(next(iter(columns.values()))) if columns else 0
    matches = np.zeros((n_leads, len(icp)), dtype=bool)
    fields = {c.field for c in icp if c.field in columns}
    for field_name in fields:
        column = columns[field_name]
        criteria = [j for j, c in enumerate(icp) if c.field == field_name]
        on_field = functools.partial(_matches_on, criteria=[icp[j] for j in criteria])
        if isinstance(column, pl.Series) and column.dtype == pl.String and len(column) > SMALL:
            # Every criterion on this field, once per distinct value (see per_distinct).
            matches[:, criteria] = per_distinct(column, on_field)
        else:
            matches[:, criteria] = on_field(column)
    return matches


def _matches_on(column: Any, criteria: list[IcpCriterion]) -> np.ndarray:
    """Matrix (values × criteria) of criterion_matches for one column."""
    out = np.zeros((len(column), len(criteria)), dtype=bool)
    for j, criterion in enumerate(criteria):
        out[:, j] = criterion_matches(column, criterion)
    return out


def fit_points(
    columns: Mapping[str, Any], icp: Sequence[IcpCriterion], *, explain: bool = False
) -> tuple[np.ndarray, list[list[tuple[str, float]]] | None]:
    """Per-lead sum of the steps of the ICP criteria it meets (thirds of a letter grade).

    `columns` maps a lead field name (industry, employees, seniority, country, email, …) to one
    array with a value per lead. Returns (points as float array, reasons): reasons is None unless
    `explain`, then per lead the list of (criterion label, step) it met, biggest effect first.
    """
    matches = fit_matches(columns, icp)
    steps = np.array([c.step for c in icp], dtype=float)
    points = matches.astype(float) @ steps if len(icp) else np.zeros(matches.shape[0])
    if not explain:
        return points, None
    labels = [c.label for c in icp]
    order = np.argsort(-np.abs(steps), kind="stable")
    reasons = [
        [(labels[j], float(steps[j])) for j in order if row[j] and steps[j] != 0] for row in matches
    ]
    return points, reasons


def grades_from_points(points: np.ndarray) -> np.ndarray:
    """Letter grades from fit points: start at "D", every point is a third of a letter.

    Clipped to F … A+. Returns an array of grade strings.
    """
    return np.asarray(np.asarray(GRADES, dtype=object)[grade_ranks_from_points(points)])


def grade_ranks_from_points(points: np.ndarray) -> np.ndarray:
    """grade_rank(grades_from_points(points)) without the grade strings in between."""
    steps = np.rint(np.asarray(points, dtype=float)).astype(int)
    return np.asarray(np.clip(_START + steps, 0, len(GRADES) - 1))


def grade_rank(grades: np.ndarray | Sequence[str]) -> np.ndarray:
    """Index of each grade in GRADES (F = 0 … A+ = 12); -1 for a blank or unknown grade."""
    if len(grades) <= SMALL:
        return np.fromiter((_GRADE_INDEX.get(g, -1) for g in grades), dtype=int, count=len(grades))
    series = pl.Series(
        list(grades) if not isinstance(grades, np.ndarray) else grades, dtype=pl.Utf8
    )
    ranks = series.replace_strict(_GRADE_INDEX, default=-1, return_dtype=pl.Int64)
    return ranks.fill_null(-1).to_numpy()


# --------------------------------------------------------------------------------------------
# Engagement
# --------------------------------------------------------------------------------------------


def decay_weights(age_days: np.ndarray, half_life_days: float) -> np.ndarray:
    """0.5 ** (age / half-life): 1 for a touch now, ½ after one half-life.

    Ages below zero (touches dated in the future) count as 0 days.
    """
    age = np.maximum(np.asarray(age_days, dtype=float), 0.0)
    if not half_life_days or half_life_days <= 0:
        return np.ones_like(age)
    return np.asarray(np.exp2(-age / float(half_life_days)))


def _type_codes(
    touch_type: np.ndarray, type_names: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    touch_type = np.asarray(touch_type)
    if type_names is not None:
        return touch_type.astype(np.int64, copy=False), list(type_names)
    if touch_type.dtype.kind in "iu":
        raise ValueError("integer touch types need type_names to say what each code means")
    names, codes = np.unique(touch_type.astype(str), return_inverse=True)
    return codes.astype(np.int64), [str(n) for n in names]


def engagement_by_group(
    lead_index: np.ndarray,
    touch_type: np.ndarray,
    age_days: np.ndarray,
    n_leads: int,
    config: EngagementRules,
    *,
    type_names: Sequence[str] | None = None,
    multiplicity: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Capped, decayed points per lead per group (leads × groups) and the group names.

    A group is a cap group of the contract (e.g. "web": page views and ad clicks, max 20) or,
    for a type in no cap group, the type itself (uncapped). Caps apply after decay, so an old
    burst is worth less than the cap and a fresh one is cut at the cap. `multiplicity`, when
    given, weights each row: a row can then stand for many touches whose decay weights were
    already summed (age 0), which is how the database adapter passes pre-aggregated touches.
    """
    codes, names = _type_codes(touch_type, type_names)
    points_by_type, caps = config.points, config.caps
    group_of: dict[str, str] = {}
    for group, spec in caps.items():
        for name in spec.types:
            group_of[name] = group
    groups: list[str] = list(caps)
    for name in points_by_type:
        if name not in group_of:
            group_of[name] = name
            groups.append(name)
    for name in names:  # types the contract gives no points still get a (zero) group
        if name not in group_of:
            group_of[name] = name
            groups.append(name)
    group_index = {g: i for i, g in enumerate(groups)}
    type_points = np.array([float(points_by_type.get(n, 0)) for n in names] or [0.0])
    type_group = np.array([group_index[group_of[n]] for n in names] or [0], dtype=np.int64)

    lead_index = np.asarray(lead_index, dtype=np.int64)
    weight = type_points[codes] * decay_weights(age_days, config.half_life_days)
    if multiplicity is not None:
        weight = weight * np.asarray(multiplicity, dtype=float)
    cell = lead_index * len(groups) + type_group[codes]
    totals = np.bincount(cell, weights=weight, minlength=n_leads * len(groups))
    totals = totals[: n_leads * len(groups)].reshape(n_leads, len(groups))
    cap_row = np.array([caps[g].max if g in caps else np.inf for g in groups])
    return np.minimum(totals, cap_row), groups


def engagement_scores(
    lead_index: np.ndarray,
    touch_type: np.ndarray,
    age_days: np.ndarray,
    n_leads: int,
    config: EngagementRules,
    *,
    type_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Engagement score per lead: decayed touch points, capped per group, summed.

    lead_index: for each touch, the 0-based position of its lead (0 … n_leads-1);
    touch_type: each touch's type name (or integer codes into `type_names`);
    age_days: each touch's age in days at scoring time; config: the contract's engagement rules.
    Returns a float array of length n_leads (0 for a lead without touches).
    """
    by_group, _ = engagement_by_group(
        lead_index, touch_type, age_days, n_leads, config, type_names=type_names
    )
    return np.asarray(by_group.sum(axis=1))


# --------------------------------------------------------------------------------------------
# The MQL rule
# --------------------------------------------------------------------------------------------


def meets_mql_rule(
    fit_grades: np.ndarray | None,
    engagement: np.ndarray,
    rule: MqlRule,
    *,
    ranks: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean per lead: engagement >= rule.min_engagement and grade >= rule.min_fit_grade.

    `ranks` (grade_rank of the grades) may stand in for the grades.
    """
    min_rank = _GRADE_INDEX.get(rule.min_fit_grade or "F", 0)
    if ranks is None:
        if fit_grades is None:
            raise ValueError("meets_mql_rule needs the fit grades or their ranks")
        ranks = grade_rank(fit_grades)
    fit_ok = ranks >= min_rank
    engaged = np.asarray(engagement, dtype=float) >= rule.min_engagement
    return fit_ok & engaged
