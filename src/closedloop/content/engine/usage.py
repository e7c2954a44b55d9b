"""What reps and buyers did with each asset: counts, distinct reps and leads, last use.

Input: `Events`, one row per event, as parallel arrays. `asset` is the asset's index
(0..n_assets-1), `kind` a `UsageKind` code, `at` epoch seconds, `lead` the lead's index or -1
(a rep opening an asset in the library has no lead), `rep` the rep's index or -1 (a buyer
opening a page of the website has no rep).

A buyer's view is a `content_view` touch; a share, an open, a download and a presentation are
what a rep did (the usage log). Only the rep-side kinds count as *sales use* (`SALES_KINDS`):
that is what "70% of collateral is never used by sales" measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

NEVER = -1  # "no such time" in int64 epoch-second arrays
DAY = 86_400
# Below this many cells (assets x reps or leads), distinct pairs are marked in a dense bitmap
# (one pass) instead of sorted with np.unique.
_DENSE_CELLS = 1 << 26

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class UsageKind(IntEnum):
    BUYER_VIEW = 0  # a lead opened the asset (a content_view touch, e.g. through a share link)
    SHARE = 1  # a rep sent it to a lead as a tracked link
    OPEN = 2  # a rep opened it in the library
    DOWNLOAD = 3  # a rep downloaded the file
    PRESENT = 4  # a rep presented it in a meeting


SALES_KINDS = (UsageKind.SHARE, UsageKind.OPEN, UsageKind.DOWNLOAD, UsageKind.PRESENT)
BUYER_KINDS = (UsageKind.BUYER_VIEW, UsageKind.SHARE)  # what puts an asset in front of a buyer


@dataclass(frozen=True)
class Events:
    asset: IntArray
    kind: NDArray[np.int8]
    at: IntArray
    lead: IntArray
    rep: IntArray

    def __post_init__(self) -> None:
        sizes = {len(self.asset), len(self.kind), len(self.at), len(self.lead), len(self.rep)}
        if len(sizes) != 1:
            raise ValueError("the event arrays differ in length")

    def __len__(self) -> int:
        return len(self.asset)

    def where(self, mask: BoolArray) -> Events:
        """The events where `mask` holds."""
        return Events(
            self.asset[mask], self.kind[mask], self.at[mask], self.lead[mask], self.rep[mask]
        )


def events(
    *,
    asset: object,
    kind: object,
    at: object,
    lead: object | None = None,
    rep: object | None = None,
) -> Events:
    """`Events` from array-likes; a missing `lead` or `rep` column is all -1."""
    assets = np.asarray(asset, dtype=np.int64)
    blank = np.full(len(assets), NEVER, dtype=np.int64)
    return Events(
        assets,
        np.asarray(kind, dtype=np.int8),
        np.asarray(at, dtype=np.int64),
        blank if lead is None else np.asarray(lead, dtype=np.int64),
        blank.copy() if rep is None else np.asarray(rep, dtype=np.int64),
    )


@dataclass(frozen=True)
class Usage:
    """Per asset (arrays of length n_assets)."""

    counts: IntArray  # (n_assets, len(UsageKind)): events of each kind
    recent: IntArray  # the same, counting only events at or after `since`
    reps: IntArray  # distinct reps who shared, opened, downloaded or presented it
    leads: IntArray  # distinct leads who viewed it or were sent it
    last_used_at: IntArray  # latest event of any kind, NEVER if none
    last_sales_use_at: IntArray  # latest rep-side event (SALES_KINDS), NEVER if none

    def count(self, kind: UsageKind, *, recent: bool = False) -> IntArray:
        return (self.recent if recent else self.counts)[:, int(kind)]


def asset_usage(ev: Events, *, n_assets: int, since: int = NEVER) -> Usage:
    """Counts per asset and kind (all, and since `since`), distinct reps and leads, and the
    time of the last use.

    Linear in the number of events but for the distinct counts (a bitmap when assets x reps
    or assets x leads is small, else one sort of the pairs)."""
    width = len(UsageKind)
    cell = ev.asset * width + ev.kind
    counts = np.bincount(cell, minlength=n_assets * width)
    recent = np.bincount(cell, weights=ev.at >= since, minlength=n_assets * width)
    sales = kind_mask(ev.kind, SALES_KINDS)
    to_buyer = kind_mask(ev.kind, BUYER_KINDS)
    return Usage(
        counts=counts.reshape(n_assets, width).astype(np.int64),
        recent=recent.reshape(n_assets, width).astype(np.int64),
        reps=distinct_per_asset(ev.asset, ev.rep, n_assets=n_assets, mask=sales),
        leads=distinct_per_asset(ev.asset, ev.lead, n_assets=n_assets, mask=to_buyer),
        last_used_at=latest_per_asset(ev.asset, ev.at, n_assets=n_assets),
        last_sales_use_at=latest_per_asset(
            ev.asset, np.where(sales, ev.at, NEVER), n_assets=n_assets
        ),
    )


def kind_mask(kind: NDArray[np.int8], kinds: tuple[UsageKind, ...]) -> BoolArray:
    """Where `kind` is one of `kinds` (a table lookup: several times faster than np.isin)."""
    table = np.zeros(256, dtype=bool)
    table[list(kinds)] = True
    return np.asarray(table[kind.astype(np.uint8)])


def distinct_per_asset(
    asset: IntArray, other: IntArray, *, n_assets: int, mask: BoolArray | None = None
) -> IntArray:
    """How many distinct values of `other` (>= 0; -1 is ignored) each asset has."""
    keep = other >= 0 if mask is None else mask & (other >= 0)
    if not keep.any():
        return np.zeros(n_assets, dtype=np.int64)
    base = int(other.max()) + 1
    if n_assets * base <= _DENSE_CELLS:
        # Pairs that do not count go to one extra cell past the end, never read.
        seen = np.zeros(n_assets * base + 1, dtype=bool)
        seen[np.where(keep, asset * base + other, n_assets * base)] = True
        return np.asarray(seen[:-1].reshape(n_assets, base).sum(axis=1), dtype=np.int64)
    keys = asset[keep] * base + other[keep]
    return np.bincount(unique(keys) // base, minlength=n_assets).astype(np.int64)


def unique(values: IntArray) -> IntArray:
    """The sorted distinct values. np.unique is many times slower than a sort on millions of
    int64 (it hashes since NumPy 2.3); this sorts and keeps each run's first value."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def latest_per_asset(asset: IntArray, at: IntArray, *, n_assets: int) -> IntArray:
    """The latest `at` per asset, NEVER where an asset has none."""
    latest = np.full(n_assets, NEVER, dtype=np.int64)
    np.maximum.at(latest, asset, at)
    return latest


def unused_share(last_use: IntArray, *, as_of: int, days: int = 90, eligible: BoolArray) -> float:
    """Share of the eligible assets with no use in the `days` before `as_of` (0.0 if none are
    eligible). `last_use` is e.g. `Usage.last_sales_use_at`."""
    if not eligible.any():
        return 0.0
    unused = last_use[eligible] < as_of - days * DAY
    return float(unused.mean())
