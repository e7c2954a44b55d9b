"""The result of an attribution model: conversions and value credited to each channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.analytics.engine.journeys import FloatArray, IntArray, Journeys


@dataclass(frozen=True)
class Credits:
    """Per channel: credited conversions (journeys) and value (currency units).

    Every model credits exactly the journeys' total conversions and total value, so
    `conversions.sum() == journeys.conversions.sum()` up to rounding. `stderr` is set by
    sampled models only: the standard error of each channel's credited conversions.
    """

    model: str
    channels: tuple[str, ...]
    conversions: FloatArray
    value: FloatArray
    stderr: FloatArray | None = None

    def as_dict(self) -> dict[str, dict[str, float]]:
        """`{channel: {"conversions": x, "value": y}}`, channels in their code order."""
        out: dict[str, dict[str, float]] = {}
        for i, name in enumerate(self.channels):
            entry = {"conversions": float(self.conversions[i]), "value": float(self.value[i])}
            if self.stderr is not None:
                entry["conversions_stderr"] = float(self.stderr[i])
            out[name] = entry
        return out


def credit_touches(journeys: Journeys, weights: FloatArray, model: str) -> Credits:
    """Credit each touch `weights[t]` of its row's conversions and value.

    `weights` has one entry per touch and sums to 1 within every row, so the totals are kept.
    """
    rows = journeys.row_of_touch
    return Credits(
        model=model,
        channels=journeys.channels,
        conversions=_by_channel(journeys.codes, weights * journeys.conversions[rows], journeys),
        value=_by_channel(journeys.codes, weights * journeys.value[rows], journeys),
    )


def _by_channel(codes: IntArray, weights: FloatArray, journeys: Journeys) -> FloatArray:
    return np.bincount(codes, weights=weights, minlength=len(journeys.channels)).astype(np.float64)


def share_totals(
    journeys: Journeys, shares: FloatArray, value_shares: FloatArray, model: str
) -> Credits:
    """Split the journeys' total conversions and value in proportion to per-channel shares.

    Used by the data-driven models, whose removal effects or Shapley values are relative
    weights. All-zero shares (nothing converted) credit nothing.
    """
    return Credits(
        model=model,
        channels=journeys.channels,
        conversions=_scaled(shares, float(journeys.conversions.sum())),
        value=_scaled(value_shares, float(journeys.value.sum())),
    )


def _scaled(shares: FloatArray, total: float) -> FloatArray:
    denominator = float(shares.sum())
    if denominator <= 0:
        return np.zeros_like(shares, dtype=np.float64)
    return shares * (total / denominator)
