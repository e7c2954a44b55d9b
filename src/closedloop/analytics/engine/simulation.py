"""Monte-Carlo estimate of Markov removal effects: the reference, never the product path.

ChannelAttribution estimates removal effects by simulating random walks through the chain.
This module does the same so that tests and the benchmark can check the exact solve in
`markov.py` against it and report the simulation's error; closedloop never serves it.
"""

from __future__ import annotations

import numpy as np

from closedloop.analytics.engine.journeys import FloatArray
from closedloop.analytics.engine.markov import Chain


def simulate_removal_effects(
    chain: Chain, channels: int, *, walks: int, seed: int = 0, max_steps: int = 1_000
) -> FloatArray:
    """Removal effect per channel code from `walks` simulated walks per scenario."""
    rng = np.random.default_rng(seed)
    whole = simulate_conversion_rate(chain, None, walks=walks, rng=rng, max_steps=max_steps)
    effects = np.zeros(channels)
    for code in range(channels):
        rate = simulate_conversion_rate(chain, code, walks=walks, rng=rng, max_steps=max_steps)
        effects[code] = 0.0 if whole <= 0 else max(0.0, 1.0 - rate / whole)
    return effects


def simulate_conversion_rate(
    chain: Chain, removed: int | None, *, walks: int, rng: np.random.Generator, max_steps: int
) -> float:
    """Share of `walks` walks from start that reach "conversion" (None removes nothing).

    A walk entering a state whose newest touch is the removed channel ends in "null".
    """
    q = chain.transitions.tocsr()
    q.sort_indices()
    mass = np.asarray(q.sum(axis=1)).ravel()
    cumulative = np.cumsum(q.data)
    before_row = np.concatenate([[0.0], cumulative])[q.indptr[:-1]]
    state = np.zeros(walks, dtype=np.int64)
    converted = 0
    for _ in range(max_steps):
        if len(state) == 0:
            break
        draw = rng.random(len(state))
        moves = draw < mass[state]
        absorbed = ~moves
        converted += int(np.sum(absorbed & (draw < mass[state] + chain.to_conversion[state])))
        mover, draw = state[moves], draw[moves]
        slot = np.searchsorted(cumulative, before_row[mover] + draw, side="right")
        slot = np.minimum(slot, q.indptr[mover + 1] - 1)
        state = q.indices[slot]
        if removed is not None:
            state = state[chain.last_channel[state] != removed]
    return converted / walks
