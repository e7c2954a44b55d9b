"""A seeded generator of marketing journeys for the attribution benchmark and tests.

Channels have a popularity (Zipf-like) and a first-order transition structure, path lengths
are geometric (capped), and each journey converts with a probability that grows with the
channels it touched; some channels are truly better than others. The figures are synthetic:
they exercise the engine at the scale of ChannelAttribution's published timings.
"""

from __future__ import annotations

import numpy as np

from closedloop.analytics.engine.journeys import Journeys, aggregate_paths


def generate_journeys(
    *, journeys: int = 1_000_000, channels: int = 20, mean_length: float = 3.4, seed: int = 7
) -> Journeys:
    """`journeys` journeys over `channels` channels, aggregated by identical path."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, channels + 1) ** 0.8
    popularity /= popularity.sum()
    moves = rng.dirichlet(np.full(channels, 0.6), size=channels) * 0.7 + popularity * 0.3
    lengths = np.minimum(rng.geometric(1.0 / mean_length, size=journeys), 16)
    codes = _walk(rng, lengths, popularity, moves)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    lift = rng.normal(0.0, 0.35, size=channels)
    row = np.repeat(np.arange(journeys), lengths)
    score = np.bincount(row, weights=lift[codes], minlength=journeys) - 2.6
    converted = rng.random(journeys) < 1.0 / (1.0 + np.exp(-score))
    value = np.where(converted, rng.lognormal(5.0, 0.6, size=journeys), 0.0)
    return aggregate_paths(
        Journeys(
            channels=tuple(f"channel_{i:02d}" for i in range(channels)),
            codes=codes,
            offsets=offsets,
            conversions=converted.astype(np.float64),
            value=value,
            nulls=(~converted).astype(np.float64),
        )
    )


def _walk(rng, lengths, popularity, moves):
    """Channel codes of every touch, generated one step at a time for all journeys at once."""
    total, width = int(lengths.sum()), int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    codes = np.empty(total, dtype=np.int64)
    current = rng.choice(len(popularity), size=len(lengths), p=popularity)
    codes[starts] = current
    cumulative = np.cumsum(moves, axis=1)
    for step in range(1, width):
        alive = np.flatnonzero(lengths > step)
        draw = rng.random(len(alive))[:, None]
        current[alive] = (draw > cumulative[current[alive]]).sum(axis=1)
        current[alive] = np.minimum(current[alive], len(popularity) - 1)
        codes[starts[alive] + step] = current[alive]
    return codes
