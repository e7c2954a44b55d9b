"""Judging a scorer: cross-validation, the CSV evaluation, and the Odoo-style reference."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from closedloop.core.csvformat import SAMPLE_BYTES, CsvFormat, detect_csv_format
from closedloop.definitions.scorecard import as_series as _as_series
from closedloop.definitions.scorecard import lower_text as _text
from closedloop.scoring.engine.additive import ConversionModel
from closedloop.scoring.engine.choice import AUTO_TITLE, AutoModel
from closedloop.scoring.engine.columns import DroppedColumn, screen_columns
from closedloop.scoring.engine.encoding import clean_text


def cross_validate(
    frame: pl.DataFrame,
    outcome: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
    make_scorer: Any = None,
    predictions: list[np.ndarray] | None = None,
    fitted: list[Any] | None = None,
) -> dict[str, float | int]:
    """Stratified k-fold cross-validation of a scorer: {auc, brier, rows, positives, folds, …}.

    `make_scorer()` returns an object with fit(frame, outcome) and predict(frame) (default: a
    fresh ConversionModel). `fitted`, when given, receives each fold's fitted scorer. AUC and
    Brier score are computed over the pooled out-of-fold
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
        if fitted is not None:
            fitted.append(scorer)
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
    """Nested cross-validated quality of the automatic model choice on a table with an outcome.

    Outer: `folds` stratified folds (seed `seed`); in each, AutoModel chooses among the
    candidates by an inner cross-validation of the training folds only, then predicts the test
    fold. Columns that are constant, identifier-like or date-like are left out and listed with
    the reason ("screened"). The target's values are read as converted when they are
    1/yes/true/won/converted. With `reference`, the Odoo-style naive Bayes is judged on the
    same folds (key "reference"). Raises ValueError naming a missing column or a target
    without both outcomes.
    """
    outcome, features, screened = _learnable(frame, target, [c for c in [id_column, *drop] if c])
    fitted: list[Any] = []
    result: dict[str, Any] = {
        "model": AUTO_TITLE,
        **cross_validate(
            features,
            outcome,
            folds=folds,
            seed=seed,
            make_scorer=lambda: AutoModel(random_state=seed),
            fitted=fitted,
        ),
        "dropped_as_asked": [c for c in [id_column, *drop] if c],
        "screened": [c.as_dict() for c in screened],
        "chosen_per_fold": [m.choice["chosen"] for m in fitted],
        "inner_auc_per_fold": [m.choice["inner_auc"] for m in fitted],
    }
    if reference:
        result["reference"] = {
            "model": "naive Bayes over value counts (Odoo)",
            **cross_validate(
                features, outcome, folds=folds, seed=seed, make_scorer=FrequencyNaiveBayes
            ),
        }
    return result


def _learnable(
    frame: pl.DataFrame, target: str, drop: list[str]
) -> tuple[np.ndarray, pl.DataFrame, list[DroppedColumn]]:
    """(outcome, feature columns, screened columns) of an export; ValueError on bad input."""
    missing = [c for c in [target, *drop] if c not in frame.columns]
    if missing:
        raise ValueError(f"column(s) not in the file: {', '.join(missing)}")
    outcome = outcome_from_values(frame[target])
    if outcome.min() == outcome.max():
        raise ValueError(f"target column {target!r} needs both converted and not-converted rows")
    features = frame.drop(list(dict.fromkeys([target, *drop])))
    screened = screen_columns(features)
    features = features.drop([c.name for c in screened])
    if not features.columns:
        raise ValueError("no columns left to learn from after leaving out the ones listed")
    return outcome, features, screened


def outcome_from_values(values: Any) -> np.ndarray:
    """1 for converted (1, yes, true, won, converted, y), 0 for anything else."""
    text = _text(_as_series(values)).str.strip_chars()
    return (
        text.is_in(["1", "1.0", "yes", "y", "true", "t", "won", "converted"]).to_numpy().astype(int)
    )


def read_csv_export(data: bytes) -> tuple[CsvFormat, pl.DataFrame]:
    """A CSV export as a frame of text columns, whatever its encoding, BOM and delimiter.

    Quoted fields may hold delimiters and newlines. Every column is read as text: the encoder
    decides per column what is a number. Raises ValueError for a file that is not CSV.
    """
    fmt = detect_csv_format(data[:SAMPLE_BYTES])
    try:
        frame = pl.read_csv(
            io.StringIO(fmt.decode(data)), separator=fmt.delimiter, infer_schema_length=0
        )
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"not a readable CSV file: {exc}") from exc
    stripped = [c.strip() for c in frame.columns]
    if len(set(stripped)) == len(stripped):  # " Income " is "Income", unless that collides
        frame.columns = stripped
    return fmt, frame
