"""What every candidate model shares: the factor texts reps read, calibration, and reasons.

A candidate explains a lead's score as per-column contributions in log-odds: the model's
log-odds are `base + Σ_column contribution`, where a contribution says how far this lead's value
moves the score from the column's typical effect. The reasons are then computed one way for all
candidates (effect in score points = p − p without that contribution), and the texts are the
ones the additive model has always used ("Industry: Software", "Company size (employees): over
10 up to 50", "Email domain: not given").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from closedloop.scoring.engine import common
from closedloop.scoring.engine.additive import _interval_text
from closedloop.scoring.engine.common import _logit, _sigmoid
from closedloop.scoring.engine.encoding import FeatureEncoder
from closedloop.scoring.engine.reasons import top_factors


class FactorVocabulary:
    """The factor texts of an encoder's columns, and which text each encoded value gets.

    Per column: each kept category and "another value", or no/yes, or five value bands
    (quintiles of the training leads); then "not given". Ids index into `texts`.
    """

    def __init__(self, encoder: FeatureEncoder, matrix: np.ndarray, labels: Mapping[str, str]):
        self.texts: list[str] = []
        self.offsets: list[int] = []
        self.bands: list[np.ndarray | None] = []
        for j, name in enumerate(encoder.columns):
            self.offsets.append(len(self.texts))
            self.texts += self._column_texts(encoder, name, matrix[:, j], labels.get(name, name))
        self.offsets.append(len(self.texts))

    def _column_texts(
        self, encoder: FeatureEncoder, name: str, column: np.ndarray, label: str
    ) -> list[str]:
        kind = encoder.kinds[name]
        bands: np.ndarray | None = None
        if kind == "category":
            values = [*encoder.categories[name], "another value"]
        elif kind == "yes_no":
            values = ["no", "yes"]
        else:
            answered = column[~np.isnan(column)]
            bands = (
                np.unique(np.quantile(answered, [0.2, 0.4, 0.6, 0.8]))
                if answered.size
                else np.zeros(0)
            )
            values = None
        self.bands.append(bands)
        if values is not None:
            texts = [f"{label}: {value}" for value in values]
        else:
            assert bands is not None  # a number column has bands
            texts = [_interval_text(label, bands, i) for i in range(len(bands) + 1)]
        return [*texts, f"{label}: not given"]

    def ids(self, matrix: np.ndarray) -> np.ndarray:
        """Text id per value (rows × columns)."""
        out = np.empty(matrix.shape, dtype=np.int64)
        for j in range(matrix.shape[1]):
            column, size = matrix[:, j], self.offsets[j + 1] - self.offsets[j]
            missing = np.isnan(column)
            filled = np.where(missing, 0, column)
            bands = self.bands[j]
            if bands is None:
                cell = np.clip(filled.astype(np.int64), 0, size - 2)  # unseen codes: "another"
            else:
                cell = np.searchsorted(bands, filled, side="left")
            out[:, j] = self.offsets[j] + np.where(missing, size - 1, cell)
        return out


def platt_scaling(out_of_fold: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    """(a, b) of logit p' = a · logit p + b fitted on held-out predictions."""
    from sklearn.linear_model import LogisticRegression

    z = _logit(np.asarray(out_of_fold, dtype=float))[:, None]
    fitted = LogisticRegression(C=1e6).fit(z, np.asarray(outcome, dtype=int))
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


class ExplainedModel:
    """Base of the candidates: fit the encoder and vocabulary, then `_fit_matrix`.

    Subclasses give `raw_contributions(matrix) -> (base per row, rows × columns)` in log-odds
    and may give a faster `raw_log_odds`. Calibration scales both (logit p' = a·z + b), so the
    contributions keep adding up to the calibrated log-odds.
    """

    name = ""
    title = ""

    def __init__(self, labels: Mapping[str, str] | None = None, random_state: int = 0):
        self.labels = dict(labels or {})
        self.random_state = random_state
        self.scale, self.shift = 1.0, 0.0

    def fit(self, frame: pl.DataFrame, outcome: np.ndarray) -> ExplainedModel:
        self.encoder = FeatureEncoder().fit(frame)
        matrix = self.encoder.transform(frame)
        self.vocabulary = FactorVocabulary(self.encoder, matrix, self.labels)
        self.scale, self.shift = 1.0, 0.0
        self._fit_matrix(matrix, np.asarray(outcome, dtype=int))
        return self

    def _fit_matrix(self, matrix: np.ndarray, outcome: np.ndarray) -> None:
        raise NotImplementedError

    def raw_contributions(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def raw_log_odds(self, matrix: np.ndarray) -> np.ndarray:
        base, contributions = self.raw_contributions(matrix)
        return np.asarray(base + contributions.sum(axis=1))

    def contributions(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base, rows × columns) with base + row sum = the calibrated log-odds."""
        base, contributions = self.raw_contributions(matrix)
        return self.scale * base + self.shift, self.scale * contributions

    def log_odds(self, matrix: np.ndarray) -> np.ndarray:
        return self.scale * self.raw_log_odds(matrix) + self.shift

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return _sigmoid(self.log_odds(matrix))

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Conversion probability (0–1) per row of `frame`."""
        return self.predict_matrix(self.encoder.transform(frame))

    def recalibrate(self, out_of_fold: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
        """Platt scaling on held-out predictions (see ConversionModel.recalibrate)."""
        a, b = platt_scaling(out_of_fold, outcome)
        self.scale, self.shift = a * self.scale, a * self.shift + b
        self.calibration = (a, b)
        return a, b

    def factor_texts(self) -> list[str]:
        return self.vocabulary.texts

    def text_ids(self, matrix: np.ndarray) -> np.ndarray:
        return self.vocabulary.ids(matrix)

    def predict_with_reasons(
        self, matrix: np.ndarray, *, per_side: int = 3, min_effect: float = 0.5
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return explain(self, matrix, per_side=per_side, min_effect=min_effect)


def explain(
    model: ExplainedModel, matrix: np.ndarray, *, per_side: int = 3, min_effect: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probability, top factor ids, their effects in score points) per row, a block at a time.

    A factor's effect is how many points its contribution moves the probability: the lead's
    probability minus the probability with that contribution taken out.
    """
    n = matrix.shape[0]
    width = 2 * min(per_side, matrix.shape[1])
    probability = np.empty(n)
    top_ids = np.empty((n, width), dtype=np.int64)
    top_effects = np.empty((n, width))

    def one_block(rows: slice) -> None:
        block = matrix[rows]
        base, contributions = model.contributions(block)
        logit = base + contributions.sum(axis=1)
        probability[rows] = _sigmoid(logit)
        effects = 100.0 * (probability[rows][:, None] - _sigmoid(logit[:, None] - contributions))
        top_ids[rows], top_effects[rows] = top_factors(
            model.text_ids(block), effects, per_side=per_side, min_effect=min_effect
        )

    blocks = common.blocks(n)
    if len(blocks) <= 1:
        for rows in blocks:
            one_block(rows)
    else:  # NumPy releases the GIL in its loops, so blocks run in parallel on threads
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            list(pool.map(one_block, blocks))
    return probability, top_ids, top_effects
