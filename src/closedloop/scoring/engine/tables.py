"""Two additive candidates over value cells: regularised logistic regression and naive Bayes.

Both read every column as cells: each kept category, "another value", no/yes, or one of up to
NUMBER_BINS value bins (quantiles of the training leads), and "not given". A model is then one
number per cell (log-odds), so scoring is a sum of table lookups and each column's reason is
exact: its cell's number against the column's average over the training leads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from closedloop.scoring.engine.encoding import FeatureEncoder
from closedloop.scoring.engine.explained import ExplainedModel

NUMBER_BINS = 10
LOGISTIC_C = 0.5  # inverse L2 strength on one-hot cells: modest shrinkage of rare cells
NB_SMOOTHING = 1.0  # Laplace: an unseen or rare cell stays finite


class Cells:
    """Which cell each encoded value falls in, learned from the training matrix."""

    def __init__(self, matrix: np.ndarray, encoder: FeatureEncoder):
        self.edges: list[np.ndarray | None] = []
        self.sizes: list[int] = []
        for j, name in enumerate(encoder.columns):
            kind, column = encoder.kinds[name], matrix[:, j]
            answered = column[~np.isnan(column)]
            if kind in ("category", "yes_no"):
                # codes 0 … K-1 and K for "another value" (categories) or no/yes; then missing
                values = len(encoder.categories[name]) + 1 if kind == "category" else 2
                self.edges.append(None)
                self.sizes.append(values + 1)
            else:
                qs = np.linspace(0, 1, NUMBER_BINS + 1)[1:-1]
                edges = np.unique(np.quantile(answered, qs)) if answered.size else np.zeros(0)
                self.edges.append(edges)
                self.sizes.append(len(edges) + 2)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)

    def of(self, matrix: np.ndarray) -> np.ndarray:
        """Cell per value within its column (rows × columns); the last cell is "not given"."""
        out = np.empty(matrix.shape, dtype=np.int64)
        for j in range(matrix.shape[1]):
            column, size = matrix[:, j], self.sizes[j]
            missing = np.isnan(column)
            filled = np.where(missing, 0, column)
            edges = self.edges[j]
            if edges is None:
                cell = np.clip(filled.astype(np.int64), 0, size - 2)
            else:
                cell = np.searchsorted(edges, filled, side="left")
            out[:, j] = np.where(missing, size - 1, cell)
        return out

    def one_hot(self, matrix: np.ndarray) -> Any:
        """Sparse rows × all cells, one 1 per column."""
        from scipy.sparse import csr_matrix

        cells = self.of(matrix) + self.offsets[:-1]
        n, k = cells.shape
        data = np.ones(n * k)
        return csr_matrix((data, cells.ravel(), np.arange(0, n * k + 1, k)), shape=(n, self.total))

    @property
    def total(self) -> int:
        return int(self.offsets[-1])


class TableModel(ExplainedModel):
    """An additive model with one log-odds number per cell (`_tables` fills them)."""

    def _fit_matrix(self, matrix: np.ndarray, outcome: np.ndarray) -> None:
        self.cells = Cells(matrix, self.encoder)
        self.intercept, flat = self._tables(matrix, outcome)
        bounds = self.cells.offsets
        self.tables = [flat[bounds[j] : bounds[j + 1]] for j in range(len(bounds) - 1)]
        cells = self.cells.of(matrix)
        self.means = [float(t[cells[:, j]].mean()) for j, t in enumerate(self.tables)]

    def _tables(self, matrix: np.ndarray, outcome: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def raw_contributions(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cells = self.cells.of(matrix)
        parts = np.empty(matrix.shape)
        for j, table in enumerate(self.tables):
            parts[:, j] = table[cells[:, j]] - self.means[j]
        return np.full(matrix.shape[0], self.intercept + float(np.sum(self.means))), parts

    def raw_log_odds(self, matrix: np.ndarray) -> np.ndarray:
        cells = self.cells.of(matrix)
        total = np.full(matrix.shape[0], self.intercept)
        for j, table in enumerate(self.tables):
            total += table[cells[:, j]]
        return total


class LogisticModel(TableModel):
    """L2-regularised logistic regression on one-hot cells (numbers binned)."""

    name = "logistic"
    title = "Regularised logistic regression (one-hot, numbers binned)"

    def _tables(self, matrix: np.ndarray, outcome: np.ndarray) -> tuple[float, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        fitted = LogisticRegression(C=LOGISTIC_C, max_iter=2000, solver="lbfgs")
        fitted.fit(self.cells.one_hot(matrix), outcome)
        return float(fitted.intercept_[0]), fitted.coef_[0].astype(float)


class NaiveBayesModel(TableModel):
    """Naive Bayes over value counts: each cell's log(P(cell | converted) / P(cell | not))."""

    name = "naive_bayes"
    title = "Naive Bayes over value counts"

    def _tables(self, matrix: np.ndarray, outcome: np.ndarray) -> tuple[float, np.ndarray]:
        cells = self.cells.of(matrix) + self.cells.offsets[:-1]
        won = np.bincount(cells[outcome == 1].ravel(), minlength=self.cells.total)
        lost = np.bincount(cells[outcome == 0].ravel(), minlength=self.cells.total)
        n_won, n_lost = int(outcome.sum()), int(len(outcome) - outcome.sum())
        sizes = np.repeat(self.cells.sizes, self.cells.sizes)
        ratio = np.log((won + NB_SMOOTHING) / (n_won + NB_SMOOTHING * sizes)) - np.log(
            (lost + NB_SMOOTHING) / (n_lost + NB_SMOOTHING * sizes)
        )
        return float(np.log(max(n_won, 1) / max(n_lost, 1))), ratio
