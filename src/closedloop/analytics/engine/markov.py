"""Markov-chain attribution of any order k, solved exactly (no simulation).

The chain. Its transient states are "start" and every k-tuple of channels seen in the paths
(the last k touches; the first k - 1 touches of a journey have shorter tuples), its absorbing
states are "conversion" and "null". Each row of paths adds `conversions + nulls` journeys to
every transition along its path, then `conversions` to last state -> conversion and `nulls` to
last state -> null. Transition probabilities are the counts divided by each state's total.

Removal effect. P is the probability of absorption in "conversion" from "start":
(I - Q) x = b, P = x[start], with Q the transient-to-transient probabilities and b the
probabilities of moving to "conversion". Removing channel c sends every transition into a
state whose newest touch is c to "null"; that is the same system restricted to the other
states (states holding c elsewhere are reachable only through such a state). One sparse solve
per channel gives P_c, and RE_c = 1 - P_c / P. Credits split the total conversions in
proportion to RE_c. For value, the right-hand side is the expected value carried into
"conversion" from each state (the value of the journeys that converted from it divided by the
state's total), so each channel's value removal effect is exact as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from closedloop.analytics.engine.credits import Credits, share_totals
from closedloop.analytics.engine.journeys import BoolArray, FloatArray, IntArray, Journeys

# Below this many states a dense solve is cheapest. Above, LU factors fill in almost
# completely (order 3: 8k states, 9M nonzeros), so the series solve is used.
DENSE_LIMIT = 64
# Pair or key spaces up to this size are counted with a bincount instead of a sort.
DENSE_PAIRS = 8_000_000
# The series solve stops when less than this probability is still in transit ...
TOLERANCE = 1e-13
# ... or gives up for a sparse LU after this many steps.
MAX_STEPS = 5_000


@dataclass(frozen=True)
class Chain:
    """An absorbing Markov chain over transient states; state 0 is "start".

    `transitions` holds transient-to-transient probabilities (rows sum, with `to_conversion`
    and `to_null`, to 1). `value_to_conversion[s]` is the expected conversion value carried
    from s into "conversion" in one step (currency units). `last_channel[s]` is the newest
    touch's channel code of state s (-1 for start).
    """

    transitions: sp.csr_matrix
    to_conversion: FloatArray
    value_to_conversion: FloatArray
    to_null: FloatArray
    last_channel: IntArray
    order: int

    @property
    def states(self) -> int:
        return len(self.last_channel)


@dataclass(frozen=True)
class RemovalEffects:
    """Exact removal effects per channel (0..1) for conversions and for value."""

    conversion_probability: float
    expected_value: float
    conversions: FloatArray
    value: FloatArray


def build_chain(journeys: Journeys, *, order: int = 1) -> Chain:
    """Count the order-`order` chain's transitions from the journeys (vectorised)."""
    if order < 1:
        raise ValueError("order must be at least 1")
    state, last_channel = _touch_states(journeys, order)
    n = len(last_channel)
    through = (journeys.conversions + journeys.nulls)[journeys.row_of_touch]
    previous = np.roll(state, 1)
    previous[journeys.offsets[:-1]] = 0
    counts = _count_pairs(previous, state, through, n)
    ends = state[journeys.offsets[1:] - 1]
    conv = np.bincount(ends, weights=journeys.conversions, minlength=n)
    value = np.bincount(ends, weights=journeys.value, minlength=n)
    null = np.bincount(ends, weights=journeys.nulls, minlength=n)
    total = np.asarray(counts.sum(axis=1)).ravel() + conv + null
    scale = np.divide(1.0, total, out=np.zeros(n), where=total > 0)
    return Chain(
        transitions=sp.csr_matrix(counts.multiply(scale[:, None])),
        to_conversion=conv * scale,
        value_to_conversion=value * scale,
        to_null=null * scale,
        last_channel=last_channel,
        order=order,
    )


def _count_pairs(source: IntArray, target: IntArray, weights: FloatArray, n: int) -> sp.coo_matrix:
    """Summed weights per (source, target) pair as an n x n sparse matrix."""
    if n * n <= DENSE_PAIRS:
        # A bincount over the pair index beats sorting when the square fits in memory.
        flat = np.bincount(source * n + target, weights=weights, minlength=n * n)
        return sp.coo_matrix(flat.reshape(n, n))
    pair, inverse = np.unique(source * n + target, return_inverse=True)
    summed = np.bincount(inverse, weights=weights, minlength=len(pair))
    return sp.coo_matrix((summed, (pair // n, pair % n)), shape=(n, n))


def _touch_states(journeys: Journeys, order: int) -> tuple[IntArray, IntArray]:
    """The chain state (1..n-1) entered at each touch, and each state's newest channel."""
    codes = journeys.codes
    if order == 1:
        # States are the channels themselves; unseen channels are harmless isolated states.
        last = np.concatenate([[-1], np.arange(len(journeys.channels))])
        return codes + 1, last
    base = len(journeys.channels) + 1
    if base**order >= 2**62:
        raise ValueError(f"order {order} is too high for {base - 1} channels")
    position = journeys.position
    symbol = codes + 1
    key = symbol.copy()
    for lag in range(1, order):
        older = np.roll(symbol, lag)
        older[position < lag] = 0
        key = key + older * base**lag
    unique, inverse = _dense_ids(key, base**order)
    last = np.concatenate([[-1], unique % base - 1])
    return inverse + 1, last


def _dense_ids(key: IntArray, space: int) -> tuple[IntArray, IntArray]:
    """Sorted distinct keys and each key's index among them (np.unique without the sort)."""
    if space > DENSE_PAIRS:
        unique, inverse = np.unique(key, return_inverse=True)
        return unique, inverse.astype(np.int64)
    seen = np.zeros(space, dtype=bool)
    seen[key] = True
    unique = np.flatnonzero(seen)
    index = np.cumsum(seen) - 1
    return unique, index[key]


def removal_effects(chain: Chain, channels: int, *, tolerance: float = TOLERANCE) -> RemovalEffects:
    """Solve the chain whole and without each channel; removal effects per channel code.

    Column 0 of `keep` is the whole chain; column c + 1 drops the states whose newest touch is
    channel c. All columns are solved together (see `_visits`).
    """
    codes = np.arange(channels)
    keep = np.column_stack(
        [np.ones(chain.states, dtype=bool), chain.last_channel[:, None] != codes]
    )
    visits = _visits(sp.csr_matrix(chain.transitions.T), keep, tolerance)
    conv = visits.T @ chain.to_conversion
    value = visits.T @ chain.value_to_conversion
    return RemovalEffects(
        conversion_probability=float(conv[0]),
        expected_value=float(value[0]),
        conversions=_effects(conv[1:], conv[0]),
        value=_effects(value[1:], value[0]),
    )


def _effects(without: FloatArray, whole: float) -> FloatArray:
    if whole <= 0:
        return np.zeros_like(without)
    return np.clip(1.0 - without / whole, 0.0, None)


def _visits(forward: sp.csr_matrix, keep: BoolArray, tolerance: float) -> FloatArray:
    """Expected visits of every state from start, one column per `keep` mask.

    Each column solves y = e_start + Q^T y with the flow into dropped states removed; then
    P(conversion) = y . b and E[value] = y . b_value. Small chains use a dense solve. Larger
    ones sum the series y = sum_t (Q^T)^t e_start until the probability mass still in transit
    is below `tolerance` in every column: that mass bounds the error of P, so the result is
    exact to `tolerance`. Columns still carrying mass after MAX_STEPS (long cycles) are solved
    by a sparse LU instead.
    """
    n = forward.shape[0]
    if n <= DENSE_LIMIT:
        dense = forward.toarray()
        columns = [_dense_visits(dense, keep[:, j]) for j in range(keep.shape[1])]
        return np.column_stack(columns)
    mask = keep.astype(np.float64)
    flow = np.zeros(keep.shape)
    flow[0, :] = 1.0
    visits = flow.copy()
    for _ in range(MAX_STEPS):
        flow = (forward @ flow) * mask
        visits += flow
        if flow.sum(axis=0).max() <= tolerance:
            return visits
    for j in np.flatnonzero(flow.sum(axis=0) > tolerance):
        visits[:, j] = _lu_visits(forward, keep[:, j])
    return visits


def _dense_visits(forward: FloatArray, keep: BoolArray) -> FloatArray:
    q = forward * keep[None, :] * keep[:, None]
    return np.asarray(np.linalg.solve(np.eye(len(keep)) - q, _start(len(keep))), np.float64)


def _start(n: int) -> FloatArray:
    vector = np.zeros(n)
    vector[0] = 1.0
    return vector


def _lu_visits(forward: sp.csr_matrix, keep: BoolArray) -> FloatArray:
    index = np.flatnonzero(keep)
    q = forward[index][:, index]
    system = sp.csc_matrix(sp.identity(len(index), format="csc") - q)
    visits = np.zeros(forward.shape[0])
    visits[index] = spla.splu(system).solve(_start(len(index)))
    return visits


def markov(journeys: Journeys, *, order: int = 1) -> Credits:
    """Markov removal-effect attribution of order `order`, solved exactly.

    Credits: total conversions (and value) split in proportion to each channel's removal
    effect on the conversion probability (and on the expected value).
    """
    effects = removal_effects(build_chain(journeys, order=order), len(journeys.channels))
    return share_totals(journeys, effects.conversions, effects.value, f"markov_{order}")
