"""Lead scoring arithmetic: fit grade, engagement with decay, the MQL rule, the predictive model.

Pure: NumPy, Polars and scikit-learn only, no Django. The adapters in `services.py` read the
database into arrays, call these functions and write the results back; the definitions app's
what-if simulation calls the same functions on a draft contract.

Units: fit points are thirds of a letter grade; engagement is in contract points (a touch of a
type worth p points, t days old, counts p * 0.5 ** (t / half_life_days)); probabilities are 0–1.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl

from closedloop.definitions.contract import EngagementRules, IcpCriterion, MqlRule
from closedloop.vocabulary import GRADES, STARTING_GRADE

_START = GRADES.index(STARTING_GRADE)
# Up to this many leads, plain Python beats array set-up costs (the one-lead rescore path).
SMALL = 64
_GRADE_INDEX = {grade: i for i, grade in enumerate(GRADES)}


# --------------------------------------------------------------------------------------------
# Fit grade
# --------------------------------------------------------------------------------------------


def _as_series(values: Any) -> pl.Series:
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
    codes = series.cast(pl.Enum(values)).to_physical().cast(pl.UInt32)
    codes = codes.fill_null(values.len()).to_numpy()
    values = values.extend(pl.Series([None], dtype=values.dtype))
    return np.asarray(compute(values))[codes]


def _text(series: pl.Series) -> pl.Series:
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
    series = _as_series(column)
    if op in ("gte", "lte"):
        numbers = _number(series)
        with np.errstate(invalid="ignore"):
            hit = numbers >= float(value) if op == "gte" else numbers <= float(value)
        return np.asarray(hit & ~np.isnan(numbers), dtype=bool)
    text = _text(series)
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


def _matches_one(raw: Any, op: str, value: Any) -> bool:
    """criterion_matches for one value: the same rules, without array overhead."""
    if op in ("gte", "lte"):
        number = _to_float(raw)
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


def _to_float(raw: Any) -> float:
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
    return np.asarray(GRADES, dtype=object)[grade_ranks_from_points(points)]


def grade_ranks_from_points(points: np.ndarray) -> np.ndarray:
    """grade_rank(grades_from_points(points)) without the grade strings in between."""
    return np.clip(
        _START + np.rint(np.asarray(points, dtype=float)).astype(int), 0, len(GRADES) - 1
    )


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
    return np.exp2(-age / float(half_life_days))


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
    return by_group.sum(axis=1)


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
    fit_ok = (grade_rank(fit_grades) if ranks is None else ranks) >= min_rank
    engaged = np.asarray(engagement, dtype=float) >= rule.min_engagement
    return fit_ok & engaged


# --------------------------------------------------------------------------------------------
# The predictive scorer
# --------------------------------------------------------------------------------------------

# Values that forms and CRMs use to mean "not answered": treated as missing.
PLACEHOLDERS = frozenset(
    {"", "select", "-", "--", "n/a", "na", "nan", "none", "null", "unknown", "?"}
)
_YES = frozenset({"yes", "y", "true", "t", "1"})
_NO = frozenset({"no", "n", "false", "f", "0"})
MAX_CATEGORIES = 60  # per column; rarer values are pooled into "other"
MIN_CATEGORY_COUNT = 10  # a value seen fewer times than this is pooled too
NUMERIC_SHARE = 0.95  # a text column is numeric when this share of its answers parse as numbers


def clean_text(values: Any) -> pl.Series:
    """Stripped text with placeholders ("Select", "N/A", "", …) turned into missing values."""
    text = _as_series(values).cast(pl.Utf8, strict=False).str.strip_chars()
    return text.set(text.str.to_lowercase().is_in(list(PLACEHOLDERS)).fill_null(False), None)


class FeatureEncoder:
    """Turns messy lead columns into a numeric matrix, learning each column's kind from data.

    Per column, from the training rows: numbers (including numbers stored as text) stay
    numbers; yes/no columns become 1/0; everything else is a categorical with its frequent
    values kept (up to MAX_CATEGORIES, each seen >= MIN_CATEGORY_COUNT times) and the rest
    pooled. Placeholders are missing (NaN), which the models handle natively. Columns with one
    value, or unique per row (ids), carry no signal and are dropped.
    """

    def fit(self, frame: pl.DataFrame) -> FeatureEncoder:
        self.columns: list[str] = []
        self.kinds: dict[str, str] = {}
        self.categories: dict[str, list[str]] = {}
        rows = frame.height
        for name in frame.columns:
            kind, categories = self._learn(frame[name], rows)
            if kind is None:
                continue
            self.columns.append(name)
            self.kinds[name] = kind
            if categories is not None:
                self.categories[name] = categories
        return self

    @staticmethod
    def _learn(column: pl.Series, rows: int) -> tuple[str | None, list[str] | None]:
        if column.dtype.is_numeric() or column.dtype == pl.Boolean:
            values = column.cast(pl.Float64, strict=False).drop_nulls().drop_nans()
            return ("number" if values.n_unique() > 1 else None), None
        text = clean_text(column)
        answered = text.drop_nulls()
        if answered.len() == 0:
            return None, None
        lowered = answered.str.to_lowercase()
        if lowered.n_unique() <= 2 and lowered.is_in(list(_YES | _NO)).all():
            return ("yes_no" if lowered.n_unique() == 2 else None), None
        numbers = answered.str.replace_all(",", "").cast(pl.Float64, strict=False)
        if numbers.is_not_null().mean() >= NUMERIC_SHARE:
            return ("number" if numbers.drop_nulls().n_unique() > 1 else None), None
        counts = answered.value_counts(sort=True)
        if counts.height >= 0.9 * rows or counts.height < 2:
            return None, None  # an id or a constant
        kept = counts.filter(pl.col("count") >= MIN_CATEGORY_COUNT).head(MAX_CATEGORIES)
        if kept.height == 0:
            return None, None
        return "category", [str(v) for v in kept[answered.name or ""].to_list()]

    def transform(self, frame: pl.DataFrame | Mapping[str, Sequence[Any]]) -> np.ndarray:
        """Float matrix (rows × self.columns): categoricals as codes, missing as NaN.

        `frame` is a Polars frame or, for a few leads, a dict of column name → list of values.
        """
        if isinstance(frame, pl.DataFrame):
            rows, present = frame.height, set(frame.columns)
        else:
            rows, present = len(next(iter(frame.values()), [])), set(frame)
        # Column-major: each column is written (and later read) as one contiguous block.
        out = np.full((rows, len(self.columns)), np.nan, order="F")
        for j, name in enumerate(self.columns):
            if name not in present:
                continue
            column = frame[name]
            if isinstance(column, pl.Series):
                out[:, j] = self._encode(column, name)
            else:
                out[:, j] = [self._encode_one(value, name) for value in column]
        return out

    def _encode_one(self, raw: Any, name: str) -> float:
        """_encode for one value: the same rules, without array overhead."""
        if isinstance(raw, float) and raw != raw:
            return float("nan")
        text = None if raw is None else str(raw).strip()
        if text is not None and text.lower() in PLACEHOLDERS:
            text = None
        kind = self.kinds[name]
        if text is None:
            return float("nan")
        if kind == "number":
            return _to_float(text)
        if kind == "yes_no":
            lowered = text.lower()
            return 1.0 if lowered in _YES else 0.0 if lowered in _NO else float("nan")
        if not hasattr(self, "_codes"):
            self._codes = {}
        codes = self._codes.get(name)
        if codes is None:
            codes = self._codes[name] = {v: float(i) for i, v in enumerate(self.categories[name])}
        return codes.get(text, float(len(self.categories[name])))

    def _encode(self, column: pl.Series, name: str) -> np.ndarray:
        if column.dtype == pl.String and column.len() > SMALL:
            return per_distinct(column, lambda values: self._encode_values(values, name))
        return self._encode_values(column, name)

    def _encode_values(self, column: pl.Series, name: str) -> np.ndarray:
        kind = self.kinds[name]
        if kind == "number":
            if column.dtype.is_numeric() or column.dtype == pl.Boolean:
                return column.cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy()
            text = clean_text(column).str.replace_all(",", "")
            return text.cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy()
        text = clean_text(column)
        if kind == "yes_no":
            lowered = text.str.to_lowercase()
            yes = lowered.is_in(list(_YES)).fill_null(False).to_numpy()
            no = lowered.is_in(list(_NO)).fill_null(False).to_numpy()
            return np.where(yes, 1.0, np.where(no, 0.0, np.nan))
        categories = self.categories[name]
        mapping = {value: float(code) for code, value in enumerate(categories)}
        other = float(len(categories))  # pooled rare and unseen values
        codes = text.replace_strict(mapping, default=other, return_dtype=pl.Float64).to_numpy()
        # replace_strict gives the default to missing values too; they must stay missing.
        return np.where(text.is_null().to_numpy(), np.nan, codes)

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([self.kinds[c] == "category" for c in self.columns], dtype=bool)

    def describe(self, name: str, encoded: float) -> str:
        """The value an encoded cell stands for, as a rep would read it."""
        if np.isnan(encoded):
            return "not given"
        kind = self.kinds[name]
        if kind == "yes_no":
            return "yes" if encoded >= 0.5 else "no"
        if kind == "category":
            categories = self.categories[name]
            code = int(encoded)
            return categories[code] if code < len(categories) else "another value"
        return f"{encoded:,.4g}"


ALGORITHM = "Additive gradient boosting (one column per tree)"
# Rows per block in ConversionModel.predict_with_reasons and reasons_series: a block's
# leads × 16 columns intermediates (4 MB each) stay in the CPU cache.
EXPLAIN_BLOCK = 32_768


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class ConversionModel:
    """Predicted probability that a lead converts, from whatever lead columns there are.

    A FeatureEncoder, then gradient boosting (scikit-learn's HistGradientBoostingClassifier,
    native categorical and missing-value handling) restricted to trees of one column each, so
    the model is additive in log-odds: logit p = intercept + Σ_column shape_column(value).
    docs/decisions/0006-predictive-scorer.md gives the measurements behind that choice.

    After fitting, each column's shape is read off the trained model into a lookup table (one
    entry per interval between the model's own split points, per category, and for missing),
    which makes scoring a sum of table lookups (about 100× faster than walking the trees) and
    makes every reason exact: a lead's factor for a column is how far its value's entry sits
    from the column's average entry. `fit` checks the tables reproduce the trees.
    """

    def __init__(
        self, labels: Mapping[str, str] | None = None, random_state: int = 0, explain: bool = True
    ):
        self.labels = dict(labels or {})
        self.random_state = random_state
        self.explain = explain  # kept for callers; the tables serve prediction and reasons alike

    def fit(self, frame: pl.DataFrame, outcome: np.ndarray) -> ConversionModel:
        """Learn from `frame` (one row per lead) and `outcome` (1 = converted, 0 = did not)."""
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        outcome = np.asarray(outcome, dtype=int)
        self.__dict__.pop("_factor_texts", None)
        self.encoder = FeatureEncoder().fit(frame)
        matrix = self.encoder.transform(frame)
        # One thread: on a busy machine OpenMP's spinning threads make fitting 20× slower.
        with threadpool_limits(1):
            self.classifier = HistGradientBoostingClassifier(
                learning_rate=0.1,
                max_iter=1000,
                early_stopping=True,
                l2_regularization=1.0,
                interaction_cst="no_interactions",
                categorical_features=self.encoder.categorical_mask,
                random_state=self.random_state,
            ).fit(matrix, outcome)
            self._compile(matrix)
        return self

    def recalibrate(self, out_of_fold: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
        """Platt scaling on cross-validated predictions: logit p' = a · logit p + b.

        Regularised boosting tends to be under-confident; fitting a and b on predictions for
        leads the model did not see makes "a score of 60" mean 60 % again. Scaling every
        table by a keeps the model additive, so reasons stay exact. Returns (a, b).
        """
        from sklearn.linear_model import LogisticRegression

        z = _logit(np.asarray(out_of_fold, dtype=float))[:, None]
        fitted = LogisticRegression(C=1e6).fit(z, np.asarray(outcome, dtype=int))
        a, b = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
        self.intercept = a * self.intercept + b
        self.tables = [a * table for table in self.tables]
        self.means = [a * mean for mean in self.means]
        self.calibration = (a, b)
        return a, b

    def _internal_index(self, j: int) -> int:
        # With categorical columns, scikit-learn reorders the columns (categoricals first)
        # before binning; the trees' feature_idx counts in that internal order.
        preprocessor = getattr(self.classifier, "_preprocessor", None)
        if preprocessor is None:
            return j
        numeric = np.flatnonzero(~self.encoder.categorical_mask)
        start = preprocessor.output_indices_["numerical"].start
        return int(start + np.flatnonzero(numeric == j)[0])

    def _split_points(self, j: int) -> np.ndarray:
        internal = self._internal_index(j)
        points = [
            node["num_threshold"]
            for trees in self.classifier._predictors
            for tree in trees
            for node in tree.nodes
            if not node["is_leaf"]
            and node["feature_idx"] == internal
            and not node["is_categorical"]
        ]
        return np.unique(np.array(points, dtype=float))

    def _compile(self, matrix: np.ndarray) -> None:
        n_columns = matrix.shape[1]
        blank = np.full((1, n_columns), np.nan)
        self.intercept = float(self.classifier.decision_function(blank)[0])
        self.cuts: list[np.ndarray | None] = []  # numeric split points; None for categoricals
        self.tables: list[np.ndarray] = []  # log-odds shift per interval/category, last = missing
        for j, name in enumerate(self.encoder.columns):
            if self.encoder.kinds[name] == "category":
                cuts = None
                probes = np.arange(len(self.encoder.categories[name]) + 1, dtype=float)
            else:
                cuts = self._split_points(j)
                probes = np.append(cuts, cuts[-1] + 1 if len(cuts) else 0.0)
            grid = np.repeat(blank, len(probes) + 1, axis=0)
            grid[: len(probes), j] = probes
            self.cuts.append(cuts)
            self.tables.append(self.classifier.decision_function(grid) - self.intercept)
        self.bands = [self._text_bands(matrix[:, j], j) for j in range(n_columns)]
        self.means = [
            float(self.tables[j][self._cells(matrix[:, j], j)].mean()) for j in range(n_columns)
        ]
        check = matrix[:2000]
        if not np.allclose(
            self.log_odds(check), self.classifier.decision_function(check), atol=1e-6
        ):
            raise RuntimeError("the lookup tables do not reproduce the trained trees")

    def _text_bands(self, column: np.ndarray, j: int) -> np.ndarray | None:
        # Reasons name a value band a rep can read (quintiles of the training leads), not
        # the model's fine split points; the effect still comes from the exact table.
        if self.cuts[j] is None or self.encoder.kinds[self.encoder.columns[j]] == "yes_no":
            return None
        answered = column[~np.isnan(column)]
        if answered.size == 0:
            return np.zeros(0)
        return np.unique(np.quantile(answered, [0.2, 0.4, 0.6, 0.8]))

    def _text_cells(
        self, column: np.ndarray, j: int, cells: np.ndarray | None = None
    ) -> tuple[np.ndarray, int]:
        """Text id within column j for each value, and how many texts column j has.

        `cells`: the column's table cells when already looked up (see _cells).
        """
        bands = self.bands[j]
        if bands is None:
            return self._cells(column, j) if cells is None else cells, len(self.tables[j])
        missing = np.isnan(column)
        cell = np.searchsorted(bands, np.where(missing, 0, column), side="left")
        return np.where(missing, len(bands) + 1, cell), len(bands) + 2

    def _cells(self, column: np.ndarray, j: int) -> np.ndarray:
        """Index into tables[j] for each value: interval or category, last entry for missing."""
        missing = np.isnan(column)
        size = len(self.tables[j])
        if self.cuts[j] is None:
            cell = np.where(missing, 0, column).astype(np.int64)
            cell = np.where((cell < 0) | (cell >= size - 1), size - 2, cell)  # unseen → "other"
        else:
            cell = np.searchsorted(self.cuts[j], np.where(missing, 0, column), side="left")
        return np.where(missing, size - 1, cell)

    def cell_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Index into tables[j] for every value (rows × columns); see _cells."""
        cells = np.empty(matrix.shape, dtype=np.int64, order="F")
        for j in range(matrix.shape[1]):
            cells[:, j] = self._cells(matrix[:, j], j)
        return cells

    def log_odds(self, matrix: np.ndarray, cells: np.ndarray | None = None) -> np.ndarray:
        """Log-odds per row; `cells` (from cell_matrix) saves looking the cells up again."""
        total = np.full(matrix.shape[0], self.intercept)
        for j in range(matrix.shape[1]):
            total += self.tables[j][self._cells(matrix[:, j], j) if cells is None else cells[:, j]]
        return total

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Conversion probability (0–1) per row of `frame`."""
        return self.predict_matrix(self.encoder.transform(frame))

    def predict_matrix(self, matrix: np.ndarray, cells: np.ndarray | None = None) -> np.ndarray:
        return _sigmoid(self.log_odds(matrix, cells))

    def predict_with_reasons(
        self, matrix: np.ndarray, *, per_side: int = 3, min_effect: float = 0.5
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probability, top factor ids, their effects) per row of an encoded matrix.

        The same numbers as predict_matrix, factors and top_factors, which work row by row;
        computed a block of rows at a time so the leads × columns intermediates stay in the
        CPU cache instead of streaming through memory a dozen times for a million leads.
        """
        n = matrix.shape[0]
        width = 2 * min(per_side, matrix.shape[1])
        probability = np.empty(n)
        top_ids = np.empty((n, width), dtype=np.int64)
        top_effects = np.empty((n, width))

        def one_block(start: int) -> None:
            rows = slice(start, start + EXPLAIN_BLOCK)
            block = matrix[rows]
            cells = self.cell_matrix(block)
            probability[rows] = self.predict_matrix(block, cells)
            ids, effects = self.factors(block, probability[rows], cells)
            top_ids[rows], top_effects[rows] = top_factors(
                ids, effects, per_side=per_side, min_effect=min_effect
            )

        starts = range(0, n, EXPLAIN_BLOCK)
        if len(starts) <= 1:
            for start in starts:
                one_block(start)
        else:
            # NumPy releases the GIL in its loops, so blocks run in parallel on threads.
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
                list(pool.map(one_block, starts))
        return probability, top_ids, top_effects

    # Reasons ----------------------------------------------------------------------------

    def factor_texts(self) -> list[str]:
        """Every factor sentence the model can give; factor ids index into this list.

        Built once per fitted model (the one-lead rescore asks for them every time).
        """
        cached = self.__dict__.get("_factor_texts")
        if cached is not None:
            return cached
        texts = []
        for j, name in enumerate(self.encoder.columns):
            label = self.labels.get(name, name)
            cuts = self.cuts[j]
            if cuts is None:
                size = len(self.tables[j]) - 1
                texts += [f"{label}: {self.encoder.describe(name, float(c))}" for c in range(size)]
            elif self.bands[j] is None:
                texts += [f"{label}: {'yes' if i else 'no'}" for i in range(len(cuts) + 1)]
            else:
                texts += [
                    _interval_text(label, self.bands[j], i) for i in range(len(self.bands[j]) + 1)
                ]
            texts.append(f"{label}: not given")
        self._factor_texts = texts
        return texts

    def factors(
        self, matrix: np.ndarray, probability: np.ndarray, cells: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per lead and column: (factor id into factor_texts(), effect in score points 0–100).

        The effect is how many points this column's value moves the probability, against the
        column's average contribution over the training leads. `cells` as in log_odds.
        """
        logit = _logit(probability)
        base = _sigmoid(logit)
        ids = np.empty(matrix.shape, dtype=np.int64, order="F")
        effects = np.empty(matrix.shape, order="F")  # column by column, each one contiguous
        offset = 0
        for j in range(matrix.shape[1]):
            column_cells = self._cells(matrix[:, j], j) if cells is None else cells[:, j]
            shift = self.tables[j][column_cells] - self.means[j]
            effects[:, j] = 100.0 * (base - _sigmoid(logit - shift))
            text_cells, n_texts = self._text_cells(matrix[:, j], j, column_cells)
            ids[:, j] = offset + text_cells
            offset += n_texts
        # Row-major for top_factors, which sorts within each lead's row.
        return np.ascontiguousarray(ids), np.ascontiguousarray(effects)


def _interval_text(label: str, cuts: np.ndarray, i: int) -> str:
    if len(cuts) == 0:
        return f"{label}: given"
    if i == 0:
        return f"{label}: {cuts[0]:,.4g} or less"
    if i == len(cuts):
        return f"{label}: more than {cuts[-1]:,.4g}"
    return f"{label}: over {cuts[i - 1]:,.4g} up to {cuts[i]:,.4g}"


def top_factors(
    ids: np.ndarray, effects: np.ndarray, *, per_side: int = 3, min_effect: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """The `per_side` strongest raising and lowering factors per lead, strongest first.

    ids/effects: leads × factors. Returns (ids, effects) of shape leads × 2·per_side with id -1
    where a lead has fewer factors of at least `min_effect` points.
    """
    if effects.shape[1] == 0:
        return np.full((effects.shape[0], 0), -1), np.zeros((effects.shape[0], 0))
    k = min(per_side, effects.shape[1])
    order = np.argsort(-effects, axis=1, kind="stable")
    up, down = order[:, :k], order[:, ::-1][:, :k]
    chosen = np.concatenate([up, down], axis=1)
    chosen_effects = np.take_along_axis(effects, chosen, axis=1)
    chosen_ids = np.take_along_axis(ids, chosen, axis=1)
    side = np.concatenate([np.ones(k), -np.ones(k)])
    keep = (chosen_effects * side) >= min_effect
    return np.where(keep, chosen_ids, -1), np.where(keep, chosen_effects, 0.0)


def reasons_json(ids: np.ndarray, effects: np.ndarray, texts: Sequence[str]) -> list[str]:
    """JSON text per lead: [{"text": ..., "effect": ...}, …] (effect in score points, + raises).

    Built column-wise with Polars, so a million leads take about a second, not a Python loop.
    """
    n, k = ids.shape
    if n == 0:
        return []
    if n <= SMALL:
        return [
            json.dumps(
                [
                    {"text": texts[i], "effect": round(float(e), 1)}
                    for i, e in zip(row_ids, row_effects, strict=True)
                    if i >= 0
                ]
            )
            for row_ids, row_effects in zip(ids.tolist(), effects.tolist(), strict=True)
        ]
    return reasons_series(ids, effects, texts).to_list()


def reasons_series(ids: np.ndarray, effects: np.ndarray, texts: Sequence[str]) -> pl.Series:
    """reasons_json as a Polars Series of text (no Python string per lead is built).

    A reason item is fixed by its factor id and its effect rounded to 0.1, and a million
    leads share a few thousand of them: each distinct item is formatted once, then every
    lead's items are gathered and joined column-wise. The arithmetic runs over blocks of
    rows that stay in the CPU cache.
    """
    ids, effects = np.asarray(ids), np.asarray(effects, dtype=float)
    n, k = ids.shape
    present = ids >= 0
    lowest = np.min(effects, where=present, initial=np.inf)
    highest = np.max(effects, where=present, initial=-np.inf)
    if n == 0 or k == 0 or not (abs(lowest) < 1e12 and abs(highest) < 1e12):  # NaN fails too
        return _reasons_by_columns(ids, effects, texts)
    # One integer per (factor id, rounded effect): the id, then twice the tenths plus one for
    # a negative zero (printed "-0.0"); 0 stands for "no item".
    low = 2 * int(np.rint(lowest * 10.0)) if np.isfinite(lowest) else 0
    span = (2 * int(np.rint(highest * 10.0)) + 2 - low) if np.isfinite(highest) else 1
    if (int(ids.max()) + 1) * span > 4 * ids.size + 1_000_000:  # too many keys to mark
        return _reasons_by_columns(ids, effects, texts)
    keys = np.empty((n, k), dtype=np.int64)
    for rows in _blocks(n):
        keys[rows] = _item_keys(ids[rows], effects[rows], present[rows], low, span)
    seen = np.zeros(int(keys.max()) + 1, dtype=bool)
    seen[keys] = True
    seen[0] = True  # "no item" is number 0 whether or not a lead lacks one
    number = np.cumsum(seen) - 1
    distinct = np.flatnonzero(seen)[1:] - 1
    item_code = distinct % span + low
    rounded = (item_code >> 1) / 10.0
    rounded[(item_code & 1) == 1] = -0.0
    effect_text = pl.Series(rounded, dtype=pl.Float64).cast(pl.Utf8).to_list()
    items = [
        '{"text": ' + json.dumps(texts[i]) + ', "effect": ' + e + "}"
        for i, e in zip((distinct // span).tolist(), effect_text, strict=True)
    ]
    # Entries 2i and 2i + 1 are item i without and with a leading ", " (entries 0 and 1: no
    # item): each lead's text is then one concatenation, its first item without the comma.
    table = pl.Series(
        [None, None, *(v for item in items for v in (item, ", " + item))], dtype=pl.Utf8
    )
    index = np.empty((n, k), dtype=np.int64, order="F")  # each column contiguous for gather
    not_first = np.arange(k) != np.argmax(present, axis=1)[:, None]
    for rows in _blocks(n):
        index[rows] = 2 * number[keys[rows]] + not_first[rows]
    columns = [table.gather(index[:, c]).alias(f"r{c}") for c in range(k)]
    return pl.select(
        reasons=pl.concat_str([pl.lit("["), *columns, pl.lit("]")], ignore_nulls=True)
    )["reasons"]


def _blocks(n: int) -> list[slice]:
    return [slice(start, start + EXPLAIN_BLOCK) for start in range(0, n, EXPLAIN_BLOCK)]


def _item_keys(
    ids: np.ndarray, effects: np.ndarray, present: np.ndarray, low: int, span: int
) -> np.ndarray:
    """Key per cell for reasons_series: 1 + id * span + (code - low), 0 where no item."""
    # np.round(x, 1) is rint(x * 10) / 10: the tenths identify the rounded effect exactly.
    tenths = np.rint(effects * 10.0)
    code = 2 * np.where(present, tenths, 0).astype(np.int64)
    code += np.signbit(tenths) & (tenths == 0)
    key = ids * span + (code - low + 1)
    key[~present] = 0
    return key


def _reasons_by_columns(ids: np.ndarray, effects: np.ndarray, texts: Sequence[str]) -> pl.Series:
    """reasons_series formatting every lead's items in place: the reference for the fast path,
    and the path for effects that are not finite numbers."""
    n, k = ids.shape
    quoted = pl.Series([json.dumps(t) for t in texts] or [""], dtype=pl.Utf8)
    columns = []
    for c in range(k):
        column_ids = ids[:, c]
        text = quoted.gather(np.maximum(column_ids, 0))
        effect = pl.Series(np.round(effects[:, c], 1)).cast(pl.Utf8)
        item = pl.concat_str(
            [pl.lit('{"text": '), pl.lit(text), pl.lit(', "effect": '), pl.lit(effect), pl.lit("}")]
        )
        columns.append(pl.when(pl.lit(pl.Series(column_ids >= 0))).then(item).alias(f"r{c}"))
    joined = pl.select(pl.concat_str(columns, separator=", ", ignore_nulls=True).alias("items"))
    return "[" + joined["items"].fill_null("") + "]"


# --------------------------------------------------------------------------------------------
# Judging a scorer, and the reference it must beat
# --------------------------------------------------------------------------------------------


def cross_validate(
    frame: pl.DataFrame,
    outcome: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
    make_scorer: Any = None,
    predictions: list | None = None,
) -> dict[str, float | int]:
    """Stratified k-fold cross-validation of a scorer: {auc, brier, rows, positives, folds, …}.

    `make_scorer()` returns an object with fit(frame, outcome) and predict(frame) (default: a
    fresh ConversionModel). AUC and Brier score are computed over the pooled out-of-fold
    predictions, plus the mean and spread of the per-fold AUC.
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    make_scorer = make_scorer or (lambda: ConversionModel(random_state=seed, explain=False))
    outcome = np.asarray(outcome, dtype=int)
    predicted = np.zeros(len(outcome))
    fold_aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(outcome)), outcome):
        scorer = make_scorer().fit(frame[train], outcome[train])
        predicted[test] = scorer.predict(frame[test])
        fold_aucs.append(roc_auc_score(outcome[test], predicted[test]))
    if predictions is not None:  # the caller wants the out-of-fold predictions too
        predictions.append(predicted)
    return {
        "auc": round(float(roc_auc_score(outcome, predicted)), 4),
        "auc_fold_mean": round(float(np.mean(fold_aucs)), 4),
        "auc_fold_std": round(float(np.std(fold_aucs)), 4),
        "brier": round(float(brier_score_loss(outcome, predicted)), 4),
        "rows": int(len(outcome)),
        "positives": int(outcome.sum()),
        "folds": folds,
        "seed": seed,
    }


class FrequencyNaiveBayes:
    """The reference: Odoo's predictive lead scoring, naive Bayes over value counts.

    For each column value it counts won and lost leads; a lead's probability is
    P(won)·Π P(value|won) / (P(won)·Π P(value|won) + P(lost)·Π P(value|lost)), computed one lead
    at a time in a Python loop, as Odoo does. Only here to be measured against.
    """

    def fit(self, frame: pl.DataFrame, outcome: np.ndarray) -> FrequencyNaiveBayes:
        outcome = np.asarray(outcome, dtype=int)
        self.columns = frame.columns
        self.won, self.lost = int(outcome.sum()), int(len(outcome) - outcome.sum())
        self.counts: dict[str, dict[str, tuple[int, int]]] = {}
        for name in self.columns:
            values = clean_text(frame[name]).fill_null("").to_list()
            table: dict[str, list[int]] = {}
            for value, won in zip(values, outcome, strict=True):
                cell = table.setdefault(value, [0, 0])
                cell[0 if won else 1] += 1
            self.counts[name] = {v: (c[0], c[1]) for v, c in table.items()}
        return self

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        rows = zip(
            *(clean_text(frame[c]).fill_null("").to_list() for c in self.columns), strict=True
        )
        return np.array(
            [self.predict_one(dict(zip(self.columns, row, strict=True))) for row in rows]
        )

    def predict_one(self, lead: Mapping[str, str]) -> float:
        """One lead's probability, the Odoo way (Laplace smoothing keeps unseen values finite)."""
        total = self.won + self.lost
        p_won, p_lost = self.won / total, self.lost / total
        for name in self.columns:
            won, lost = self.counts[name].get(lead.get(name, ""), (0, 0))
            p_won *= (won + 1) / (self.won + 2)
            p_lost *= (lost + 1) / (self.lost + 2)
        return p_won / (p_won + p_lost) if p_won + p_lost > 0 else 0.0


def evaluate_csv_frame(
    frame: pl.DataFrame,
    *,
    target: str,
    id_column: str | None = None,
    drop: Sequence[str] = (),
    folds: int = 5,
    seed: int = 0,
    reference: bool = False,
) -> dict[str, Any]:
    """Cross-validated quality of the predictive scorer on a lead table with an outcome column.

    The target's values are read as converted when they are 1/yes/true/won/converted. With
    `reference`, the Odoo-style naive Bayes is judged on the same folds (key "reference").
    Raises ValueError naming a missing column or a target without both outcomes.
    """
    missing = [c for c in [target, id_column, *drop] if c and c not in frame.columns]
    if missing:
        raise ValueError(f"column(s) not in the file: {', '.join(missing)}")
    outcome = outcome_from_values(frame[target])
    if outcome.min() == outcome.max():
        raise ValueError(f"target column {target!r} needs both converted and not-converted rows")
    features = frame.drop([c for c in [target, id_column, *drop] if c])
    result: dict[str, Any] = {
        "model": ALGORITHM,
        **cross_validate(features, outcome, folds=folds, seed=seed),
    }
    if reference:
        result["reference"] = {
            "model": "naive Bayes over value counts (Odoo)",
            **cross_validate(
                features, outcome, folds=folds, seed=seed, make_scorer=FrequencyNaiveBayes
            ),
        }
    return result


def outcome_from_values(values: Any) -> np.ndarray:
    """1 for converted (1, yes, true, won, converted, y), 0 for anything else."""
    text = _text(_as_series(values)).str.strip_chars()
    return (
        text.is_in(["1", "1.0", "yes", "y", "true", "t", "won", "converted"]).to_numpy().astype(int)
    )
