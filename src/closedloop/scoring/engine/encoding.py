"""Lead columns to a numeric matrix: the FeatureEncoder every predictive model reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import polars as pl

from closedloop.definitions.scorecard import SMALL, per_distinct
from closedloop.definitions.scorecard import as_series as _as_series
from closedloop.definitions.scorecard import to_float as _to_float

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
        if cast(float, numbers.is_not_null().mean() or 0.0) >= NUMERIC_SHARE:
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
