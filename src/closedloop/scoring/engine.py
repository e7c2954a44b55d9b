"""Lead scoring arithmetic: the predictive model, its reasons and its evaluation.

Pure: NumPy, Polars and scikit-learn only, no Django. The adapters in `services.py` read the
database into arrays, call these functions and write the results back. The rules part of a
score (fit grade, engagement with decay, the MQL rule) is the contract's own arithmetic in
`definitions/scorecard.py`, re-exported here; the definitions app's what-if simulation calls
the same functions on a draft contract. Probabilities are 0–1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl

# The rules part of every score lives with the contract it reads; re-exported for the adapters.
from closedloop.definitions.scorecard import SMALL as SMALL
from closedloop.definitions.scorecard import as_series, lower_text, per_distinct, to_float
from closedloop.definitions.scorecard import criterion_matches as criterion_matches
from closedloop.definitions.scorecard import decay_weights as decay_weights
from closedloop.definitions.scorecard import engagement_by_group as engagement_by_group
from closedloop.definitions.scorecard import engagement_scores as engagement_scores
from closedloop.definitions.scorecard import fit_matches as fit_matches
from closedloop.definitions.scorecard import fit_points as fit_points
from closedloop.definitions.scorecard import grade_rank as grade_rank
from closedloop.definitions.scorecard import grade_ranks_from_points as grade_ranks_from_points
from closedloop.definitions.scorecard import grades_from_points as grades_from_points
from closedloop.definitions.scorecard import meets_mql_rule as meets_mql_rule
from closedloop.vocabulary import GRADES as GRADES

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
    text = as_series(values).cast(pl.Utf8, strict=False).str.strip_chars()
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
        if numbers.is_not_null().sum() >= NUMERIC_SHARE * numbers.len():
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
            return to_float(text)
        if kind == "yes_no":
            lowered = text.lower()
            return 1.0 if lowered in _YES else 0.0 if lowered in _NO else float("nan")
        if not hasattr(self, "_codes"):
            self._codes: dict[str, dict[str, float]] = {}
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
    return np.asarray(np.log(p / (1 - p)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


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

    # Read off the trained trees by _compile: per column, its split points (None for a
    # categorical column), its table of log-odds shifts and that table's average over the data.
    intercept: float
    cuts: list[np.ndarray | None]
    tables: list[np.ndarray]
    bands: list[np.ndarray | None]
    means: list[float]

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
        self.cuts = []  # numeric split points; None for categoricals
        self.tables = []  # log-odds shift per interval/category, last = missing
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
        cuts = self.cuts[j]
        if cuts is None:
            cell = np.where(missing, 0, column).astype(np.int64)
            cell = np.where((cell < 0) | (cell >= size - 1), size - 2, cell)  # unseen → "other"
        else:
            cell = np.searchsorted(cuts, np.where(missing, 0, column), side="left")
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
        cached: list[str] | None = self.__dict__.get("_factor_texts")
        if cached is not None:
            return cached
        texts: list[str] = []
        for j, name in enumerate(self.encoder.columns):
            label = self.labels.get(name, name)
            cuts, bands = self.cuts[j], self.bands[j]
            if cuts is None:
                size = len(self.tables[j]) - 1
                texts += [f"{label}: {self.encoder.describe(name, float(c))}" for c in range(size)]
            elif bands is None:
                texts += [f"{label}: {'yes' if i else 'no'}" for i in range(len(cuts) + 1)]
            else:
                texts += [_interval_text(label, bands, i) for i in range(len(bands) + 1)]
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
    predictions: list[Any] | None = None,
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
    text = lower_text(as_series(values)).str.strip_chars()
    return (
        text.is_in(["1", "1.0", "yes", "y", "true", "t", "won", "converted"]).to_numpy().astype(int)
    )
