"""Demo phase, inside the deals: reps share content with their deals' contacts, buyers open
most of the links, and reps open, download and present assets.

Runs while the deals are drawn (`funnel.opportunities`), before their outcome: a buyer's view
of a shared link is a `content_view` touch like any other, and the truth's `win_probability`
counts the effectiveness of every asset a deal's contacts viewed before it closed. So the
assets that really help (`truth.hidden_parameters` → `asset_effectiveness`) raise the odds of
the deals they were shared in, and the content analytics have that to find.

Those views are sales touches for the truth's engagement (they follow qualification, like
calls and meetings): `truth.true_propensity` leaves them out, and the stored touch says so
(its properties name the share link).

Reps prefer popular assets but less steeply than the web audience does (SHARE_TASTE), and
only while an asset is in fashion with them: from its creation for LIFESPAN_DAYS (drawn per
asset). Older assets are left to the website, so that, as in most companies, a good part of
the library has not been used by sales in the last 90 days.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo.arrays import Table, obj
from closedloop.demo.catalog import ASSET_COUNT, DAY, KIND, NULL_TIME

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder

SHARES_PER_DEAL = 2.5  # Poisson mean of links a deal's rep sends
OPEN_RATE = 0.85  # share of links the buyer opens
SHARE_TASTE = 0.3  # reps' preference: popularity ** SHARE_TASTE
BROWSE_PER_DEAL = 1.5  # opens of assets that were not shared, per deal
PRESENT_RATE = 0.3  # share of deals in which the rep presents one asset
LIFESPAN_DAYS = (240, 600)  # how long reps keep using an asset after it is made
CANDIDATES = 8  # draws per share to find an asset in fashion (else the share is dropped)
LINK_DAYS = 30  # a demo link expires this many days after it was sent
# Rep-side usage kinds, as content.UsageKind (the names the usage log stores).
OPEN, DOWNLOAD, PRESENT, SHARE = "open", "download", "present", "share"
_STREAM = 100  # this phase's own random stream: SeedSequence(seed) child number 100


def share_in_deals(b: Builder, *, leads, group, account, created, close) -> None:
    """Draw the shares of every deal (`group[i]` is the deal of contact `leads[i]`; per deal,
    its `account` index and `created` and `close` epoch seconds), add the buyers' views to
    `b.touch` and keep the shares (`b.shares`) and the reps' usage (`b.usage`) for the tables."""
    rng = np.random.default_rng(np.random.SeedSequence(b.seed, spawn_key=(_STREAM,)))
    deal_rep = b.account["owner_rep"][account]
    taste = b.asset_popularity**SHARE_TASTE
    taste = taste / taste.sum()
    fashion = _fashion(b, rng)
    deal = np.repeat(np.arange(len(created)), rng.poisson(SHARES_PER_DEAL, len(created)))
    at = created[deal] + (rng.uniform(0.05, 0.7, len(deal)) * (close - created)[deal])
    at = at.astype(np.int64)
    asset = _in_fashion(rng, taste, fashion, at)
    keep = (at <= b.as_of) & (asset >= 0)
    deal, at, asset = deal[keep], at[keep], asset[keep]
    shares = {
        "deal": deal,
        "lead": _a_contact(rng, leads, group, deal),
        "asset": asset,
        "rep": deal_rep[deal],
        "at": at,
    }
    view_at = at + 600 + (rng.exponential(1.5, len(deal)) * DAY).astype(np.int64)
    shares["opened_at"] = np.where(
        (rng.random(len(deal)) < OPEN_RATE) & (view_at <= b.as_of), view_at, -1
    )
    b.shares = shares
    _add_views(b, shares)
    b.usage = _rep_usage(
        b, rng, shares, taste=taste, fashion=fashion, deal_rep=deal_rep, span=(created, close)
    )


def _fashion(b: Builder, rng) -> tuple[np.ndarray, np.ndarray]:
    """(from, until) epoch seconds: when reps use each asset."""
    born = b.tables["asset"].columns["created_at"]
    return born, born + (rng.uniform(*LIFESPAN_DAYS, len(born)) * DAY).astype(np.int64)


def _in_fashion(rng, taste, fashion, at: np.ndarray) -> np.ndarray:
    """An asset per time in `at`, drawn by taste among those in fashion then (-1 if none of
    CANDIDATES draws was)."""
    born, until = fashion
    drawn = rng.choice(ASSET_COUNT, (len(at), CANDIDATES), p=taste)
    live = (born[drawn] <= at[:, None]) & (at[:, None] <= until[drawn])
    first = live.argmax(axis=1)
    return np.where(live.any(axis=1), drawn[np.arange(len(at)), first], -1)


def _a_contact(rng, leads: np.ndarray, group: np.ndarray, deal: np.ndarray) -> np.ndarray:
    """A random contact (lead index) of each deal. Contacts come grouped by deal."""
    size = np.bincount(group, minlength=int(deal.max(initial=-1)) + 1)
    first = np.cumsum(size) - size
    return leads[first[deal] + (rng.random(len(deal)) * size[deal]).astype(np.int64)]


def _add_views(b: Builder, shares: dict) -> None:
    """The opened links become content views of the contact (no campaign), marked with the
    share they came from (`link`: index into b.shares; -1 for every other touch)."""
    t, opened = b.touch, np.flatnonzero(shares["opened_at"] >= 0)
    t.setdefault("link", np.full(len(t["lead"]), -1, dtype=np.int64))
    extra = {
        "lead": shares["lead"][opened],
        "at": shares["opened_at"][opened],
        "kind": np.full(len(opened), KIND["content_view"], dtype=t["kind"].dtype),
        "campaign": np.full(len(opened), -1, dtype=np.int64),
        "asset": shares["asset"][opened],
        "is_first": np.zeros(len(opened), dtype=bool),
        "link": opened,
    }
    for key, values in extra.items():
        t[key] = np.concatenate([t[key], values])


def _rep_usage(b: Builder, rng, shares: dict, *, taste, fashion, deal_rep, span) -> dict:
    """What reps did in the library: opened each asset before sharing it (sometimes also
    downloading it), shared it (naming the lead and the link), opened others they did not
    share, and presented one in some deals."""
    created, close = span
    n, none = len(shares["at"]), np.full(len(shares["at"]), -1, dtype=np.int64)
    download = rng.random(n) < 0.3
    link = np.arange(n, dtype=np.int64)
    parts = [
        (shares["asset"], shares["rep"], shares["at"] - 3600, none, none, OPEN),
        (
            shares["asset"][download],
            shares["rep"][download],
            shares["at"][download] - 1800,
            none[download],
            none[download],
            DOWNLOAD,
        ),
        (shares["asset"], shares["rep"], shares["at"], shares["lead"], link, SHARE),
    ]
    browse = np.repeat(np.arange(len(created)), rng.poisson(BROWSE_PER_DEAL, len(created)))
    present = np.flatnonzero(rng.random(len(created)) < PRESENT_RATE)
    for deals, kind in ((browse, OPEN), (present, PRESENT)):
        when = created[deals] + rng.uniform(0, 1, len(deals)) * (close - created)[deals]
        when = when.astype(np.int64)
        blank = np.full(len(deals), -1, dtype=np.int64)
        asset = _in_fashion(rng, taste, fashion, when)
        parts.append((asset, deal_rep[deals], when, blank, blank, kind))
    keys = ("asset", "rep", "at", "lead", "link")
    usage = {key: np.concatenate([p[i] for p in parts]) for i, key in enumerate(keys)}
    usage["kind"] = np.concatenate([np.full(len(p[0]), p[-1], dtype=object) for p in parts])
    keep = (usage["at"] <= b.as_of) & (usage["asset"] >= 0)
    return {key: values[keep] for key, values in usage.items()}


def tables(b: Builder) -> None:
    """The share links and the usage log, once the deals have their ids (deal i is
    opportunity i + 1, lead i is lead i + 1, asset i is asset i + 1)."""
    s, u = b.shares, b.usage
    count = len(s["at"])
    ids = np.arange(1, count + 1)
    b.tables["share_link"] = Table(
        "content.ShareLink",
        {
            "id": ids,
            "asset_id": s["asset"] + 1,
            "lead_id": s["lead"] + 1,
            "opportunity_id": s["deal"] + 1,
            "created_by_id": b.rep_ids[s["rep"]],
            "token_hash": obj(_token_hashes(b.seed, count)),
            "created_at": s["at"],
            "expires_at": s["at"] + LINK_DAYS * DAY,
            "views": (s["opened_at"] >= 0).astype(np.int64),
            "last_viewed_at": np.where(s["opened_at"] >= 0, s["opened_at"], NULL_TIME),
        },
    )
    b.tables["usage_event"] = Table(
        "content.UsageEvent",
        {
            "id": np.arange(1, len(u["at"]) + 1),
            "asset_id": u["asset"] + 1,
            "user_id": b.rep_ids[u["rep"]],
            "kind": u["kind"],
            "lead_id": np.where(u["lead"] >= 0, u["lead"] + 1, -1),
            "share_link_id": np.where(u["link"] >= 0, u["link"] + 1, -1),
            "at": u["at"],
        },
    )


def _token_hashes(seed: int, count: int) -> list[str]:
    """Hashes of tokens nobody holds: the demo's links can be listed, never opened."""
    return [hashlib.sha256(f"demo:{seed}:{i}".encode()).hexdigest() for i in range(count)]
