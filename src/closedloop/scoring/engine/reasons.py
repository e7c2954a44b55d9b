"""Reasons: the strongest factors per lead, and their JSON text for a million leads."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import polars as pl

from closedloop.scoring.engine.common import SMALL, blocks


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
    for rows in blocks(n):
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
    for rows in blocks(n):
        index[rows] = 2 * number[keys[rows]] + not_first[rows]
    columns = [table.gather(index[:, c]).alias(f"r{c}") for c in range(k)]
    return pl.select(
        reasons=pl.concat_str([pl.lit("["), *columns, pl.lit("]")], ignore_nulls=True)
    )["reasons"]


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
