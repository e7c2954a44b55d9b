"""Helpers shared by the scoring engine's modules: array conversions, block sizes, logits."""

from __future__ import annotations

import numpy as np

# The text and number helpers are the scorecard's (`definitions/scorecard.py`), shared so that
# the model reads a lead's values exactly as the ICP criteria do.
from closedloop.definitions.scorecard import SMALL as SMALL
from closedloop.definitions.scorecard import per_distinct as per_distinct

# Rows per block in predict_with_reasons and reasons_series: a block's leads × 16 columns
# intermediates (4 MB each) stay in the CPU cache. Read at call time (tests shrink it).
EXPLAIN_BLOCK = 32_768


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def blocks(n: int) -> list[slice]:
    """Slices of EXPLAIN_BLOCK rows covering range(n)."""
    return [slice(start, start + EXPLAIN_BLOCK) for start in range(0, n, EXPLAIN_BLOCK)]
