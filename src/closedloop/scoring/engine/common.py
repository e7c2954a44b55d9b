"""Helpers shared by the scoring engine's modules: array conversions, block sizes, logits."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

# Up to this many leads, plain Python beats array set-up costs (the one-lead rescore path).
SMALL = 64
# Rows per block in predict_with_reasons and reasons_series: a block's leads × 16 columns
# intermediates (4 MB each) stay in the CPU cache. Read at call time (tests shrink it).
EXPLAIN_BLOCK = 32_768


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


def _to_float(raw: Any) -> float:
    if raw is None:
        return float("nan")
    if isinstance(raw, int | float | np.number):
        return float(raw)
    try:
        return float(str(raw).strip().replace(",", ""))
    except ValueError:
        return float("nan")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def blocks(n: int) -> list[slice]:
    """Slices of EXPLAIN_BLOCK rows covering range(n)."""
    return [slice(start, start + EXPLAIN_BLOCK) for start in range(0, n, EXPLAIN_BLOCK)]
