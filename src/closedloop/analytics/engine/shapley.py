"""Shapley-value attribution over channel sets.

Players are channels; a coalition S "wins" the journeys whose set of touched channels lies
inside S. Two characteristic functions are offered (docs/analytics.md):
- "conversions": v(S) = conversions of the journeys whose channel set is a subset of S. This
  is a sum of unanimity games, so the Shapley value has a closed form: each journey's
  conversions split equally over its distinct channels. It is exact for any number of channels.
- "rate": v(S) = conversions / journeys among the journeys whose channel set is a subset of
  S, the conversion rate S reaches alone. No closed form: it is enumerated exactly over all
  2**n coalitions up to `max_exact` channels (15 by default) and estimated beyond by sampling
  permutations, with a standard error per channel.
Value credits use the same functions with conversion value in place of conversions. Credits
split the totals in proportion to the Shapley values, so they add up to the totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
import numpy.typing as npt

from closedloop.analytics.engine.credits import Credits, share_totals
from closedloop.analytics.engine.journeys import FloatArray, IntArray, Journeys

UIntArray = npt.NDArray[np.uint64]
BoolMatrix = npt.NDArray[np.bool_]

CHARACTERISTICS = ("conversions", "rate")
MAX_CHANNELS = 62  # channel sets are bit masks in one unsigned 64-bit integer


@dataclass(frozen=True)
class ChannelSets:
    """Distinct channel sets (bit masks over `players`) with their journeys' outcomes."""

    players: IntArray  # channel codes present, bit i of a mask is players[i]
    masks: UIntArray
    conversions: FloatArray
    value: FloatArray
    journeys: FloatArray


def channel_sets(journeys: Journeys) -> ChannelSets:
    """Group rows by the set of channels they touched (repeats and order ignored)."""
    players = np.unique(journeys.codes)
    if len(players) > MAX_CHANNELS:
        raise ValueError(f"Shapley attribution supports up to {MAX_CHANNELS} channels")
    bit = np.searchsorted(players, journeys.codes).astype(np.uint64)
    masks = np.bitwise_or.reduceat(np.left_shift(np.uint64(1), bit), journeys.offsets[:-1])
    unique, inverse = np.unique(masks, return_inverse=True)

    def total(weights: FloatArray) -> FloatArray:
        return np.bincount(inverse, weights=weights, minlength=len(unique)).astype(np.float64)

    return ChannelSets(
        players=players,
        masks=unique,
        conversions=total(journeys.conversions),
        value=total(journeys.value),
        journeys=total(journeys.conversions + journeys.nulls),
    )


def shapley(
    journeys: Journeys,
    *,
    characteristic: str = "conversions",
    max_exact: int = 15,
    samples: int = 2000,
    seed: int = 0,
) -> Credits:
    """Shapley-value credits per channel; `stderr` is set when the values were sampled."""
    if characteristic not in CHARACTERISTICS:
        raise ValueError(f"characteristic must be one of {CHARACTERISTICS}")
    sets = channel_sets(journeys)
    n = len(sets.players)
    stderr = None
    if characteristic == "conversions":
        phi, phi_value = _additive(sets, sets.conversions), _additive(sets, sets.value)
    elif n <= max_exact:
        phi = _enumerate(sets, sets.conversions)
        phi_value = _enumerate(sets, sets.value)
    else:
        phi, spread = _sample(sets, sets.conversions, samples, seed)
        phi_value, _ = _sample(sets, sets.value, samples, seed)
        stderr = spread
    credits = share_totals(
        journeys, _spread(phi, sets, journeys), _spread(phi_value, sets, journeys), "shapley"
    )
    if stderr is not None:
        scale = _ratio(float(credits.conversions.sum()), float(phi.sum()))
        stderr = _spread(stderr * scale, sets, journeys)
    return Credits(credits.model, credits.channels, credits.conversions, credits.value, stderr)


def _spread(per_player: FloatArray, sets: ChannelSets, journeys: Journeys) -> FloatArray:
    out = np.zeros(len(journeys.channels))
    out[sets.players] = per_player
    return out


def _ratio(numerator: float, denominator: float) -> float:
    return 0.0 if denominator == 0 else numerator / denominator


def _members(sets: ChannelSets) -> BoolMatrix:
    n = len(sets.players)
    shifts = np.arange(n, dtype=np.uint64)
    return ((sets.masks[:, None] >> shifts[None, :]) & np.uint64(1)).astype(bool)


def _additive(sets: ChannelSets, wins: FloatArray) -> FloatArray:
    """Closed form for v(S) = sum of wins of sets inside S: wins split over each set's members."""
    members = _members(sets)
    size = members.sum(axis=1)
    return np.asarray((members * (wins / size)[:, None]).sum(axis=0), dtype=np.float64)


def _enumerate(sets: ChannelSets, wins: FloatArray) -> FloatArray:
    """Exact Shapley values of the "rate" game by enumerating all 2**n coalitions."""
    n = len(sets.players)
    value = _rate_of_every_coalition(sets, wins, n)
    sizes = _popcounts(n)
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        pairs = value.reshape(-1, 2, 2**i)
        gain = pairs[:, 1, :] - pairs[:, 0, :]
        phi[i] = float((weight[sizes.reshape(-1, 2, 2**i)[:, 0, :]] * gain).sum())
    return phi


def _rate_of_every_coalition(sets: ChannelSets, wins: FloatArray, n: int) -> FloatArray:
    """v(S) for every coalition mask S: wins / journeys of the sets inside S (subset sums)."""
    won = _subset_sums(sets.masks, wins, n)
    seen = _subset_sums(sets.masks, sets.journeys, n)
    return np.divide(won, seen, out=np.zeros_like(won), where=seen > 0)


def _subset_sums(masks: UIntArray, weights: FloatArray, n: int) -> FloatArray:
    """The zeta transform: for every mask S, the sum of weights of masks inside S."""
    table = np.bincount(masks.astype(np.int64), weights=weights, minlength=2**n)
    for i in range(n):
        pairs = table.reshape(-1, 2, 2**i)
        pairs[:, 1, :] += pairs[:, 0, :]
    return np.asarray(table, dtype=np.float64)


def _popcounts(n: int) -> IntArray:
    counts = np.zeros(1, dtype=np.int64)
    for _ in range(n):
        counts = np.concatenate([counts, counts + 1])
    return counts


def _sample(
    sets: ChannelSets, wins: FloatArray, samples: int, seed: int
) -> tuple[FloatArray, FloatArray]:
    """Shapley values of the "rate" game from random permutations; (mean, standard error).

    For a permutation, a channel set joins the growing coalition when its last member does,
    so v of every prefix comes from cumulative sums over the sets' completion positions.
    """
    rng = np.random.default_rng(seed)
    members = _members(sets)
    n = members.shape[1]
    draws = np.zeros((samples, n))
    for k in range(samples):
        order = rng.permutation(n)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        done = np.where(members, rank[None, :], -1).max(axis=1)
        won = np.cumsum(np.bincount(done, weights=wins, minlength=n))
        seen = np.cumsum(np.bincount(done, weights=sets.journeys, minlength=n))
        value = np.divide(won, seen, out=np.zeros(n), where=seen > 0)
        draws[k, order] = np.diff(value, prepend=0.0)
    return draws.mean(axis=0), draws.std(axis=0, ddof=1) / np.sqrt(samples)
