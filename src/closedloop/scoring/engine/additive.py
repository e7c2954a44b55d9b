"""The interpretable additive model: one-column boosted trees compiled to lookup tables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from closedloop.scoring.engine import common
from closedloop.scoring.engine.common import _logit, _sigmoid
from closedloop.scoring.engine.encoding import FeatureEncoder
from closedloop.scoring.engine.reasons import top_factors

ALGORITHM = "Additive gradient boosting (one column per tree)"


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

    name = "additive"
    title = ALGORITHM
    # Set by fit (_compile), and rescaled by recalibrate.
    intercept: float
    cuts: list[np.ndarray | None]  # numeric split points per column; None for categoricals
    tables: list[np.ndarray]  # log-odds shift per interval/category per column, last = missing
    bands: list[np.ndarray | None]  # value bands reasons name, per column
    means: list[float]
    calibration: tuple[float, float]

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
        self.cuts = []
        self.tables = []
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
        size, cuts = len(self.tables[j]), self.cuts[j]
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

    def contributions(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base, rows × columns) in log-odds, base + row sum = log_odds: each column's table
        entry against the column's average entry (what the reasons' effects come from)."""
        cells = self.cell_matrix(matrix)
        parts = np.column_stack(
            [self.tables[j][cells[:, j]] - self.means[j] for j in range(matrix.shape[1])]
        ).reshape(matrix.shape)
        base = np.full(matrix.shape[0], self.intercept + float(np.sum(self.means)))
        return base, parts

    def text_ids(self, matrix: np.ndarray) -> np.ndarray:
        """Factor text id per value (rows × columns), as in factors()."""
        return self.factors(matrix, np.full(matrix.shape[0], 0.5))[0]

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
            rows = slice(start, start + common.EXPLAIN_BLOCK)
            block = matrix[rows]
            cells = self.cell_matrix(block)
            probability[rows] = self.predict_matrix(block, cells)
            ids, effects = self.factors(block, probability[rows], cells)
            top_ids[rows], top_effects[rows] = top_factors(
                ids, effects, per_side=per_side, min_effect=min_effect
            )

        starts = range(0, n, common.EXPLAIN_BLOCK)
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
