"""Which deals each asset touched, and the pipeline and won revenue it influenced.

A deal (opportunity) *used* an asset when one of its contacts viewed it, or was sent it by a
rep, at a time between `lookback_days` before the deal was created and the deal's close (or
`as_of` while it is open). Views after the close cannot have influenced the outcome, and views
long before the deal belong to another buying cycle.

- pipeline influenced: the summed amount of every deal the asset touched (open, won or lost);
- won revenue influenced: the summed amount of the won ones.

Every deal an asset touched counts in full for it (influence, not attribution: the shares of
one deal are not split between the assets it used, so the figures of several assets add up to
more than the pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.content.engine.usage import (
    BUYER_KINDS,
    DAY,
    NEVER,
    BoolArray,
    Events,
    FloatArray,
    IntArray,
    kind_mask,
    unique,
)

DEFAULT_LOOKBACK_DAYS = 365


@dataclass(frozen=True)
class Deals:
    """Per deal (index 0..n-1): `amount` (money), `created` and `closed_at` (epoch seconds,
    `closed_at` NEVER while open), `won`, `stratum` (the comparison group for the lift, e.g. a
    company-size band; 0..S-1). The contacts are pairs: `contact_deal[i]` has lead
    `contact_lead[i]` (a lead may be a contact of several deals)."""

    amount: FloatArray
    created: IntArray
    closed_at: IntArray
    won: BoolArray
    stratum: IntArray
    contact_deal: IntArray
    contact_lead: IntArray

    def __len__(self) -> int:
        return len(self.amount)

    @property
    def closed(self) -> BoolArray:
        return np.asarray(self.closed_at != NEVER)


def deals(
    *,
    amount: object,
    created: object,
    closed_at: object,
    won: object,
    contact_deal: object,
    contact_lead: object,
    stratum: object | None = None,
) -> Deals:
    """`Deals` from array-likes; without `stratum`, every deal is in one group."""
    amounts = np.asarray(amount, dtype=np.float64)
    return Deals(
        amounts,
        np.asarray(created, dtype=np.int64),
        np.asarray(closed_at, dtype=np.int64),
        np.asarray(won, dtype=bool),
        np.zeros(len(amounts), np.int64) if stratum is None else np.asarray(stratum, np.int64),
        np.asarray(contact_deal, dtype=np.int64),
        np.asarray(contact_lead, dtype=np.int64),
    )


@dataclass(frozen=True)
class Pairs:
    """The distinct (asset, deal) pairs where the deal used the asset, sorted by asset."""

    asset: IntArray
    deal: IntArray


def deal_asset_pairs(
    ev: Events, dl: Deals, *, as_of: int, lookback_days: int = DEFAULT_LOOKBACK_DAYS
) -> Pairs:
    """Every (asset, deal) where a contact of the deal viewed or was sent the asset inside
    the deal's window (see the module docstring)."""
    event, deal = _expand_to_deals(ev.lead, kind_mask(ev.kind, BUYER_KINDS), dl)
    at = ev.at[event]
    end = np.where(dl.closed_at == NEVER, as_of, dl.closed_at)[deal]
    inside = (at <= end) & (at >= dl.created[deal] - lookback_days * DAY)
    n_deals = max(len(dl), 1)
    keys = unique(ev.asset[event[inside]] * n_deals + deal[inside])
    return Pairs(keys // n_deals, keys % n_deals)


def _expand_to_deals(lead: IntArray, candidate: BoolArray, dl: Deals) -> tuple[IntArray, IntArray]:
    """(event index, deal) for every deal the lead of each candidate event is a contact of.
    Leads are dense indexes, so a table indexed by lead finds each one's contacts without a
    search; its last cell (no contacts) is where lead -1 looks."""
    if len(lead) == 0 or len(dl.contact_lead) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    top = int(max(lead.max(), dl.contact_lead.max())) + 1
    contact_deals = dl.contact_deal[np.argsort(dl.contact_lead, kind="stable")]
    per_lead = np.bincount(dl.contact_lead, minlength=top + 1)
    first_of_lead = np.cumsum(per_lead) - per_lead
    event = np.flatnonzero(candidate & (per_lead[lead] > 0))
    count, start = per_lead[lead[event]], first_of_lead[lead[event]]
    event = np.repeat(event, count)
    offset = np.arange(len(event), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return event, contact_deals[np.repeat(start, count) + offset]


@dataclass(frozen=True)
class Influence:
    """Per asset: deals touched, pipeline and won revenue influenced (money), won deals."""

    deals: IntArray
    won_deals: IntArray
    pipeline: FloatArray
    won_revenue: FloatArray


def asset_influence(pairs: Pairs, dl: Deals, *, n_assets: int) -> Influence:
    """Sums over the deals each asset touched (`deal_asset_pairs`)."""
    amount = dl.amount[pairs.deal]
    won = dl.won[pairs.deal]
    return Influence(
        deals=np.bincount(pairs.asset, minlength=n_assets).astype(np.int64),
        won_deals=np.bincount(pairs.asset[won], minlength=n_assets).astype(np.int64),
        pipeline=_sum_by(pairs.asset, amount, n_assets),
        won_revenue=_sum_by(pairs.asset[won], amount[won], n_assets),
    )


def _sum_by(index: IntArray, weights: FloatArray, size: int) -> FloatArray:
    return np.bincount(index, weights=weights, minlength=size).astype(np.float64)
