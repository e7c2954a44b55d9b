"""Win-rate lift: did closed deals that used an asset win more often than comparable ones?

Method (docs/decisions/0020-content-influence-and-lift.md):

1. Only closed deals count. Deals are compared within strata: `Deals.stratum` (e.g. the
   account's size band), so an asset used mostly in large deals is not credited with the
   large deals' own win rate, crossed with how many distinct assets the deal used (1, 2-3,
   4-7, 8+), so an asset is not credited with the habit of content-hungry buyers to win more.
   A stratum counts for an asset only when it has deals that used the asset *and* deals
   that did not.
2. `used_rate` = won / closed among the deals that used the asset (in those strata).
   `comparable_rate` = the win rate of the deals that did not use it, each stratum weighted by
   how many of the users are in it (direct standardisation to the users' mix).
   `lift` = used_rate - comparable_rate, in win-rate points (0.1 = ten points).
3. Interval: Newcombe's hybrid score interval for a difference of proportions (his method 10,
   1998), built from the Wilson interval of each rate; the comparison rate's Wilson interval
   uses its effective sample size 1 / sum(w_s^2 / n0_s) (w_s the stratum weights). With one
   stratum this is exactly Newcombe's interval. It keeps sensible coverage with few deals and
   rates near 0 or 1, where the textbook Wald interval does not.
4. "Not enough data" (`enough` False) below `min_used` deals that used the asset or an
   effective comparison size below `min_comparison`.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from closedloop.content.engine.influence import Deals, Pairs
from closedloop.content.engine.usage import BoolArray, FloatArray, IntArray

MIN_USED = 20
MIN_COMPARISON = 20
# Bands of how many distinct assets a deal used: 1, 2-3, 4-7, 8+ (0 never holds a user).
EXPOSURE_EDGES = (1, 2, 4, 8)


@dataclass(frozen=True)
class Lift:
    """Per asset. Rates and the lift are fractions (0..1, lift -1..1); NaN where undefined."""

    used: IntArray  # closed deals that used the asset, in strata with a comparison
    used_won: IntArray
    used_rate: FloatArray
    comparable_rate: FloatArray
    comparison_size: FloatArray  # effective number of comparable deals
    lift: FloatArray
    low: FloatArray
    high: FloatArray
    enough: BoolArray


def wilson(successes: FloatArray, trials: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval (low, high) of successes / trials; NaN where trials is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / trials
        z2n = z * z / trials
        centre = (p + z2n / 2) / (1 + z2n)
        half = z * np.sqrt(p * (1 - p) / trials + z2n / (4 * trials)) / (1 + z2n)
    return centre - half, centre + half


def newcombe(
    p1: FloatArray,
    n1: FloatArray,
    p0: FloatArray,
    n0: FloatArray,
    *,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Newcombe's hybrid score interval (low, high) for p1 - p0, from the rates and their
    (effective) sample sizes."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    l1, u1 = wilson(p1 * n1, n1, z)
    l0, u0 = wilson(p0 * n0, n0, z)
    d = p1 - p0
    low = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return low, high


def win_rate_lift(
    pairs: Pairs,
    dl: Deals,
    *,
    n_assets: int,
    min_used: int = MIN_USED,
    min_comparison: int = MIN_COMPARISON,
    confidence: float = 0.95,
    exposure_edges: tuple[int, ...] = EXPOSURE_EDGES,
) -> Lift:
    """The stratified lift of every asset (see the module docstring)."""
    strata = exposure_strata(pairs, dl, exposure_edges)
    n1, x1, n0, x0 = _stratum_counts(pairs, dl, strata, n_assets=n_assets)
    compared = (n1 > 0) & (n0 > 0)
    n1 = np.where(compared, n1, 0.0)
    used = n1.sum(axis=1)
    used_won = np.where(compared, x1, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = n1 / used[:, None]
        rate0 = np.where(compared, x0 / n0, 0.0)
        p0 = (weight * rate0).sum(axis=1)
        size0 = 1.0 / np.where(compared, weight**2 / n0, 0.0).sum(axis=1)
        p1 = used_won / used
    p0 = np.where(used > 0, p0, np.nan)
    low, high = newcombe(p1, used, p0, size0, confidence=confidence)
    return Lift(
        used=used.astype(np.int64),
        used_won=used_won.astype(np.int64),
        used_rate=p1,
        comparable_rate=p0,
        comparison_size=np.where(used > 0, size0, 0.0),
        lift=p1 - p0,
        low=low,
        high=high,
        enough=(used >= min_used) & (np.nan_to_num(size0) >= min_comparison),
    )


def exposure_strata(pairs: Pairs, dl: Deals, edges: tuple[int, ...]) -> IntArray:
    """Each deal's stratum crossed with its band of how many distinct assets it used, so
    that a deal that used an asset is compared with deals that used as much content (deals
    that see more content win more often, whichever asset it was)."""
    if not edges:
        return dl.stratum
    used = np.bincount(pairs.deal, minlength=len(dl))
    band = np.searchsorted(np.array(edges), used, side="right")
    return np.asarray(dl.stratum * (len(edges) + 1) + band, dtype=np.int64)


def _stratum_counts(
    pairs: Pairs, dl: Deals, stratum: IntArray, *, n_assets: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(n1, x1, n0, x0), each (n_assets, strata): closed deals that used the asset and their
    wins, closed deals that did not and their wins."""
    closed, strata = dl.closed, int(stratum.max()) + 1 if len(dl) else 1
    total = np.bincount(stratum[closed], minlength=strata).astype(np.float64)
    wins = np.bincount(stratum[closed & dl.won], minlength=strata).astype(np.float64)
    keep = closed[pairs.deal]
    cell = pairs.asset[keep] * strata + stratum[pairs.deal[keep]]
    won = dl.won[pairs.deal[keep]]
    shape = (n_assets, strata)
    n1 = np.bincount(cell, minlength=n_assets * strata).reshape(shape).astype(np.float64)
    x1 = np.bincount(cell[won], minlength=n_assets * strata).reshape(shape).astype(np.float64)
    return n1, x1, total - n1, wins - x1
