"""Journeys: the input of every attribution model, as flat numpy arrays.

A journey is an ordered list of touches (channel codes) that ends either in a conversion or in
nothing (a "null"). Identical paths are stored once, with counts: one row stands for
`conversions[i] + nulls[i]` journeys with the same path, as in ChannelAttribution's path file.

Layout (CSR-like, so that models are vectorised over all touches at once):
- `codes[offsets[i]:offsets[i + 1]]` are the channel codes of row i, in time order;
- `channels[code]` is the channel's name;
- `conversions[i]`, `value[i]`, `nulls[i]`: journeys of row i that converted, their total
  conversion value (currency units), and journeys that did not convert;
- `ages` (optional): per touch, days between the touch and the journey's outcome (>= 0);
- `milestones` (optional): per row, the touch position (0-based) of "lead", "opportunity" and
  "won", or -1 when the journey does not have that milestone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MILESTONES = ("lead", "opportunity", "won")


@dataclass(frozen=True)
class Journeys:
    """Rows of paths with their outcomes; see the module docstring for the layout."""

    channels: tuple[str, ...]
    codes: IntArray
    offsets: IntArray
    conversions: FloatArray
    value: FloatArray
    nulls: FloatArray
    ages: FloatArray | None = None
    milestones: Mapping[str, IntArray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rows = len(self.offsets) - 1
        if rows < 0 or self.offsets[0] != 0 or self.offsets[-1] != len(self.codes):
            raise ValueError("offsets must start at 0 and end at len(codes)")
        if np.any(np.diff(self.offsets) < 1):
            raise ValueError("every journey needs at least one touch")
        for name in ("conversions", "value", "nulls"):
            if len(getattr(self, name)) != rows:
                raise ValueError(f"{name} needs one entry per row")
        if self.ages is not None and len(self.ages) != len(self.codes):
            raise ValueError("ages needs one entry per touch")
        unknown = set(self.milestones) - set(MILESTONES)
        if unknown:
            raise ValueError(f"unknown milestones: {sorted(unknown)}")

    @property
    def rows(self) -> int:
        """Number of rows (distinct paths, or single journeys)."""
        return len(self.offsets) - 1

    # Cached: every model needs these per-touch arrays (cached_property writes to the
    # instance dict directly, which a frozen dataclass allows).
    @cached_property
    def lengths(self) -> IntArray:
        """Touches per row."""
        return np.diff(self.offsets)

    @cached_property
    def row_of_touch(self) -> IntArray:
        """For each touch, the row it belongs to."""
        return np.repeat(np.arange(self.rows, dtype=np.int64), self.lengths)

    @cached_property
    def position(self) -> IntArray:
        """For each touch, its 0-based position within its row."""
        return np.arange(len(self.codes), dtype=np.int64) - self.offsets[self.row_of_touch]

    def milestone(self, name: str) -> IntArray:
        """Positions of milestone `name` per row, -1 where unknown."""
        found = self.milestones.get(name)
        return found if found is not None else np.full(self.rows, -1, dtype=np.int64)


def journeys_from_paths(
    paths: Sequence[Sequence[str]],
    conversions: Sequence[float],
    value: Sequence[float],
    nulls: Sequence[float],
    *,
    ages: Sequence[Sequence[float]] | None = None,
    milestones: Mapping[str, Sequence[int]] | None = None,
) -> Journeys:
    """Build `Journeys` from Python lists: one path (list of channel names) per row.

    Channel codes follow the order of first appearance. `ages` gives, per row, the age in days
    of each touch; `milestones` maps a milestone name to a position per row (-1 when absent).
    """
    index: dict[str, int] = {}
    codes = [index.setdefault(name, len(index)) for path in paths for name in path]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in paths])]).astype(np.int64)
    flat_ages = None
    if ages is not None:
        flat_ages = np.array([a for row in ages for a in row], dtype=np.float64)
    return Journeys(
        channels=tuple(index),
        codes=np.array(codes, dtype=np.int64),
        offsets=offsets,
        conversions=np.asarray(conversions, dtype=np.float64),
        value=np.asarray(value, dtype=np.float64),
        nulls=np.asarray(nulls, dtype=np.float64),
        ages=flat_ages,
        milestones={k: np.asarray(v, dtype=np.int64) for k, v in (milestones or {}).items()},
    )


def aggregate_paths(journeys: Journeys) -> Journeys:
    """Merge rows with identical paths, summing conversions, value and nulls.

    Only paths without per-touch ages or milestones can merge (those differ per journey);
    for such journeys the input is returned unchanged. Row order: by first appearance.
    """
    if journeys.ages is not None or journeys.milestones or journeys.rows == 0:
        return journeys
    keys = _path_keys(journeys)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group = rank[inverse]
    keep = first[order]
    lengths = journeys.lengths[keep]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    starts = journeys.offsets[keep]
    take = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    return Journeys(
        channels=journeys.channels,
        codes=journeys.codes[take],
        offsets=offsets,
        conversions=_sum_by(group, journeys.conversions, len(keep)),
        value=_sum_by(group, journeys.value, len(keep)),
        nulls=_sum_by(group, journeys.nulls, len(keep)),
    )


def _path_keys(journeys: Journeys) -> npt.NDArray[np.void]:
    """One fixed-width byte string per row that is equal exactly when the paths are equal."""
    width = int(journeys.lengths.max())
    padded = np.full((journeys.rows, width), -1, dtype=np.int32)
    padded[journeys.row_of_touch, journeys.position] = journeys.codes
    return np.ascontiguousarray(padded).view(np.dtype((np.void, 4 * width))).ravel()


def _sum_by(group: IntArray, weights: FloatArray, size: int) -> FloatArray:
    return np.bincount(group, weights=weights, minlength=size).astype(np.float64)
