"""Automatic model choice: the candidates compared by an inner cross-validation.

`AutoModel.fit(frame, outcome)` splits the rows it is given (and only those: in an outer
cross-validation they are the training folds, never the test fold) into INNER_FOLDS stratified
folds, fits every candidate on each fold's rest and predicts the fold. The candidate with the
best pooled inner AUC wins, except that a more interpretable candidate whose AUC is within
TIE_MARGIN of the best is preferred (order of CANDIDATES). The winner is fitted on all rows
and calibrated (Platt scaling) on its own inner out-of-fold predictions. Fixed seed, fixed
folds, single-threaded fits: the same data always gives the same choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from closedloop.scoring.engine.additive import ConversionModel
from closedloop.scoring.engine.boosted import BoostedModel
from closedloop.scoring.engine.common import _logit, _sigmoid
from closedloop.scoring.engine.encoding import FeatureEncoder
from closedloop.scoring.engine.explained import ExplainedModel
from closedloop.scoring.engine.tables import LogisticModel, NaiveBayesModel

# Most interpretable first: the tie-break walks this order.
CANDIDATES: dict[str, Any] = {
    "additive": ConversionModel,
    "logistic": LogisticModel,
    "naive_bayes": NaiveBayesModel,
    "boosted": BoostedModel,
}
TIE_MARGIN = 0.002  # inner AUC within this of the best counts as a tie
INNER_FOLDS = 5
CHOICE_ROWS = 50_000  # the choice is made on a fixed-seed sample of at most this many rows
# Explaining every lead with the tree model (TreeSHAP) costs ~100 µs of CPU per lead, against
# ~1 µs for a table model: above this many leads to rescore, a full rescore would take minutes
# instead of seconds, so candidates marked `slow_to_explain` are passed over.
MAX_LEADS_FOR_TREES = 100_000
AUTO_TITLE = "Automatic choice"


def inner_predictions(
    frame: pl.DataFrame,
    outcome: np.ndarray,
    *,
    candidates: Mapping[str, Any],
    folds: int = INNER_FOLDS,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities per candidate over `frame`'s rows (stratified k-fold)."""
    from sklearn.model_selection import StratifiedKFold

    predicted = {name: np.zeros(len(outcome)) for name in candidates}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(outcome)), outcome):
        for name, make in candidates.items():
            model = make(labels=labels, random_state=seed).fit(frame[train], outcome[train])
            predicted[name][test] = model.predict(frame[test])
    return predicted


def choose(scores: Mapping[str, float], order: list[str], margin: float = TIE_MARGIN) -> str:
    """The first candidate in `order` whose score is within `margin` of the best (candidates
    missing from `scores` are passed over)."""
    best = max(scores.values())
    return next(name for name in order if scores.get(name, -1.0) >= best - margin)


def _choice_sample(outcome: np.ndarray, seed: int) -> np.ndarray:
    rows = np.arange(len(outcome))
    if len(rows) <= CHOICE_ROWS:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, CHOICE_ROWS, replace=False))


class AutoModel:
    """The chosen candidate, fitted and calibrated; `choice` says what was compared and why.

    Acts as the chosen model: encoder, predict, predict_matrix, predict_with_reasons,
    factor_texts and contributions are the winner's.
    """

    def __init__(
        self,
        labels: Mapping[str, str] | None = None,
        random_state: int = 0,
        candidates: Mapping[str, Any] | None = None,
        folds: int = INNER_FOLDS,
        leads_to_score: int | None = None,
    ):
        self.labels = dict(labels or {})
        self.random_state = random_state
        self.folds = folds
        candidates = dict(candidates or CANDIDATES)
        self.passed_over: dict[str, str] = {}
        if leads_to_score is not None and leads_to_score > MAX_LEADS_FOR_TREES:
            self.passed_over = {
                name: f"explaining {leads_to_score:,} leads with it would take minutes "
                f"(used up to {MAX_LEADS_FOR_TREES:,} leads)"
                for name, make in candidates.items()
                if getattr(make, "slow_to_explain", False)
            }
        self.candidates = {n: m for n, m in candidates.items() if n not in self.passed_over}

    def fit(self, frame: pl.DataFrame, outcome: np.ndarray) -> AutoModel:
        from sklearn.metrics import roc_auc_score

        outcome = np.asarray(outcome, dtype=int)
        sample = _choice_sample(outcome, self.random_state)
        inner = inner_predictions(
            frame[sample],
            outcome[sample],
            candidates=self.candidates,
            folds=self.folds,
            seed=self.random_state,
            labels=self.labels,
        )
        scores = {n: float(roc_auc_score(outcome[sample], p)) for n, p in inner.items()}
        chosen = choose(scores, list(self.candidates))
        winner = self.candidates[chosen]
        self.model: ConversionModel | ExplainedModel = winner(
            labels=self.labels, random_state=self.random_state
        ).fit(frame, outcome)
        calibration = self.model.recalibrate(inner[chosen], outcome[sample])
        self.choice = self._summary(scores, chosen, inner[chosen], outcome[sample], calibration)
        return self

    def _summary(
        self,
        scores: Mapping[str, float],
        chosen: str,
        held_out: np.ndarray,
        outcome: np.ndarray,
        calibration: tuple[float, float],
    ) -> dict[str, Any]:
        """What was compared and what won, as stored with the model and shown to users."""
        from sklearn.metrics import brier_score_loss

        slope, intercept = calibration
        calibrated = _sigmoid(slope * _logit(held_out) + intercept)
        return {
            "chosen": chosen,
            "chosen_title": self.model.title,
            "inner_auc": {name: round(score, 4) for name, score in scores.items()},
            "candidates": [
                {
                    "name": name,
                    "title": make.title,
                    "inner_auc": round(scores[name], 4),
                    "chosen": name == chosen,
                }
                for name, make in self.candidates.items()
            ],
            "inner_brier": round(float(brier_score_loss(outcome, calibrated)), 4),
            "inner_folds": self.folds,
            "inner_rows": int(len(outcome)),
            "tie_margin": TIE_MARGIN,
            "passed_over": self.passed_over,
            "calibration": {"slope": round(slope, 4), "intercept": round(intercept, 4)},
        }

    @property
    def title(self) -> str:
        return f"{AUTO_TITLE}: {self.model.title}"

    @property
    def encoder(self) -> FeatureEncoder:
        return self.model.encoder

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        return self.model.predict(frame)

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return self.model.predict_matrix(matrix)

    def predict_with_reasons(
        self, matrix: np.ndarray, **options: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.model.predict_with_reasons(matrix, **options)

    def contributions(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.model.contributions(matrix)

    def factor_texts(self) -> list[str]:
        return self.model.factor_texts()
