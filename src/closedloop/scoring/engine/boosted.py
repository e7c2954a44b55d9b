"""The candidate with interactions: LightGBM gradient-boosted trees, explained by TreeSHAP.

Settings are fixed, modest ones that hold on data of any shape (small trees, slow learning,
row and column subsampling, L2); only the number of trees is learned, by early stopping on a
fifth of the training rows, before the final fit on all of them. A lead's reasons are
LightGBM's `pred_contrib` (exact Shapley values of the trees): per column, in log-odds, adding
up with the expected value to the model's log-odds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from closedloop.scoring.engine.common import SMALL
from closedloop.scoring.engine.explained import ExplainedModel

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 20,
    "reg_lambda": 1.0,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "cat_smooth": 10.0,
    "min_data_per_group": 20,
    "max_cat_threshold": 16,
    "verbosity": -1,
    "deterministic": True,
    "force_row_wise": True,
    # One thread: on a shared machine OpenMP's spinning threads slow fitting down badly.
    "num_threads": 1,
}
MAX_ROUNDS = 2000
PATIENCE = 50  # rounds without a better validation loss before stopping
VALIDATION_SHARE = 0.2


class BoostedModel(ExplainedModel):
    name = "boosted"
    title = "Gradient boosting with interactions (LightGBM)"
    slow_to_explain = True  # TreeSHAP per lead: see choice.MAX_LEADS_FOR_TREES

    def __init__(
        self,
        labels: Mapping[str, str] | None = None,
        random_state: int = 0,
        rounds: int | None = None,
    ):
        super().__init__(labels=labels, random_state=random_state)
        self.rounds = rounds

    def _params(self) -> dict[str, Any]:
        return {**PARAMS, "seed": self.random_state}

    def _dataset(self, matrix: np.ndarray, outcome: np.ndarray) -> Any:
        import lightgbm as lgb

        categorical = [int(j) for j in np.flatnonzero(self.encoder.categorical_mask)]
        return lgb.Dataset(
            matrix, outcome, categorical_feature=categorical or "auto", free_raw_data=True
        )

    def _fit_matrix(self, matrix: np.ndarray, outcome: np.ndarray) -> None:
        import lightgbm as lgb

        rounds = self.rounds or self._early_stopped_rounds(matrix, outcome)
        self.booster = lgb.train(
            self._params(), self._dataset(matrix, outcome), num_boost_round=rounds
        )
        self.rounds = rounds

    def _early_stopped_rounds(self, matrix: np.ndarray, outcome: np.ndarray) -> int:
        """Trees that minimise the loss on a held-out fifth, scaled up for the larger refit."""
        import lightgbm as lgb
        from sklearn.model_selection import train_test_split

        rows = np.arange(len(outcome))
        train, valid = train_test_split(
            rows, test_size=VALIDATION_SHARE, stratify=outcome, random_state=self.random_state
        )
        fitted = lgb.train(
            self._params(),
            self._dataset(matrix[train], outcome[train]),
            num_boost_round=MAX_ROUNDS,
            valid_sets=[self._dataset(matrix[valid], outcome[valid])],
            callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
        )
        best = fitted.best_iteration or MAX_ROUNDS
        return max(1, int(round(best / (1 - VALIDATION_SHARE))))

    def raw_contributions(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = np.asarray(
            self.booster.predict(matrix, pred_contrib=True, num_threads=_threads(matrix))
        )
        return parts[:, -1], parts[:, :-1]

    def raw_log_odds(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(
            self.booster.predict(matrix, raw_score=True, num_threads=_threads(matrix))
        )


def _threads(matrix: np.ndarray) -> int:
    # A few leads (the rescore after a touch): starting OpenMP threads on a busy machine costs
    # tens of milliseconds, far more than the work.
    return 1 if len(matrix) <= SMALL else 0
