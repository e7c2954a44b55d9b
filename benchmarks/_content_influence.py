"""The influence part of `closedloop bench content`: usage, influence and lift of every asset.

A seeded generator makes the columnar data the adapter would read (not timed): `leads` leads,
`touches` asset events (buyer views, shares, rep opens, downloads, presentations; every one
names an asset, so this is the worst case of "10M touches"), `assets` assets with Zipf-like
popularity, and deals with one to three contacts each. "influence_s" is the best of `repeat`
runs of `content.engine.report.asset_report` (usage, influence, lift, freshness, bottom 20%).

The reference, in the same run: the same usage and influence figures as DuckDB SQL over the
same arrays (Arrow tables, no copy), checked equal to the engine's and timed the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from closedloop.content.engine import influence, report
from closedloop.content.engine.usage import DAY, NEVER, Events, UsageKind, events

AS_OF = 1_795_000_000 // DAY * DAY
KIND_SHARES = {
    UsageKind.BUYER_VIEW: 0.55,
    UsageKind.SHARE: 0.15,
    UsageKind.OPEN: 0.18,
    UsageKind.DOWNLOAD: 0.07,
    UsageKind.PRESENT: 0.05,
}


@dataclass
class Data:
    ev: Events
    dl: influence.Deals
    n_assets: int


def generate(*, leads: int, touches: int, assets: int, deals: int, seed: int) -> Data:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / (1.0 + np.arange(assets)) ** 0.8
    kind = rng.choice(len(KIND_SHARES), touches, p=list(KIND_SHARES.values())).astype(np.int8)
    buyer = np.isin(kind, (int(UsageKind.BUYER_VIEW), int(UsageKind.SHARE)))
    by_rep = kind != int(UsageKind.BUYER_VIEW)
    ev = events(
        asset=rng.choice(assets, touches, p=popularity / popularity.sum()),
        kind=kind,
        at=AS_OF - rng.integers(0, 730 * DAY, touches),
        lead=np.where(buyer, rng.integers(0, leads, touches), NEVER),
        rep=np.where(by_rep, rng.integers(0, 200, touches), NEVER),
    )
    return Data(ev, _deals(rng, leads=leads, count=deals), assets)


def _deals(rng, *, leads: int, count: int) -> influence.Deals:
    contacts = rng.integers(1, 4, count)
    created = AS_OF - rng.integers(0, 700 * DAY, count)
    close = created + rng.integers(7 * DAY, 120 * DAY, count)
    closed = close <= AS_OF
    return influence.deals(
        amount=rng.lognormal(10, 0.8, count).round(-2),
        created=created,
        closed_at=np.where(closed, close, NEVER),
        won=closed & (rng.random(count) < 0.35),
        contact_deal=np.repeat(np.arange(count), contacts),
        contact_lead=rng.integers(0, leads, contacts.sum()),
        stratum=rng.integers(0, 5, count),
    )


def run_engine(data: Data) -> report.AssetReport:
    return report.asset_report(data.ev, data.dl, n_assets=data.n_assets, as_of=AS_OF)


REFERENCE_SQL = """
with pairs as (
  select distinct e.asset, c.deal
  from ev e join contacts c on c.lead = e.lead join deals d on d.deal = c.deal
  where e.kind in (0, 1) and e.lead >= 0
    and e.t <= case when d.closed_at = -1 then $as_of else d.closed_at end
    and e.t >= d.created - 365 * 86400
), influence as (
  select p.asset, count(*) as deals, sum(d.amount) as pipeline,
         sum(case when d.won then d.amount else 0 end) as won_revenue
  from pairs p join deals d on d.deal = p.deal group by p.asset
), usage as (
  select asset, count(*) as events, max(t) as last_used_at,
         count(distinct case when kind <> 0 then rep end) as reps,
         count(distinct case when kind in (0, 1) then lead end) as leads
  from ev group by asset
)
select u.asset, u.events, u.last_used_at, u.reps, u.leads,
       coalesce(i.deals, 0), coalesce(i.pipeline, 0), coalesce(i.won_revenue, 0)
from usage u left join influence i using (asset) order by u.asset
"""


def run_reference(data: Data) -> list[tuple]:
    con = duckdb.connect()
    ev, dl = data.ev, data.dl
    con.register(
        "ev",
        pa.table({"asset": ev.asset, "kind": ev.kind, "t": ev.at, "lead": ev.lead, "rep": ev.rep}),
    )
    con.register("contacts", pa.table({"deal": dl.contact_deal, "lead": dl.contact_lead}))
    con.register(
        "deals",
        pa.table(
            {
                "deal": np.arange(len(dl)),
                "amount": dl.amount,
                "created": dl.created,
                "closed_at": dl.closed_at,
                "won": dl.won,
            }
        ),
    )
    return con.execute(REFERENCE_SQL, {"as_of": AS_OF}).fetchall()


def agree(engine: report.AssetReport, rows: list[tuple]) -> bool:
    """The engine's usage and influence figures equal the reference's, asset by asset."""
    u, i = engine.usage, engine.influence
    for asset, count, last, reps, leads, deals, pipeline, won in rows:
        mine = (
            int(u.counts[asset].sum()),
            int(u.last_used_at[asset]),
            int(u.reps[asset]),
            int(u.leads[asset]),
            int(i.deals[asset]),
        )
        if mine != (count, last, reps, leads, deals):
            return False
        if not np.isclose([i.pipeline[asset], i.won_revenue[asset]], [pipeline, won]).all():
            return False
    return True


def best_of(work, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return round(best, 3), result


def measure(*, leads: int, touches: int, assets: int, deals: int, repeat: int, seed: int) -> dict:
    data = generate(leads=leads, touches=touches, assets=assets, deals=deals, seed=seed)
    seconds, engine = best_of(lambda: run_engine(data), repeat)
    reference_s, rows = best_of(lambda: run_reference(data), repeat)
    return {
        "influence_s": seconds,
        "influence": {
            "leads": leads,
            "events": touches,
            "assets": assets,
            "deals": deals,
            "target_s": 10,
            "reference": "duckdb SQL, usage and influence only (no lift)",
            "reference_s": reference_s,
            "agrees_with_reference": agree(engine, rows),  # type: ignore[arg-type]
            "assets_with_lift": int(engine.lift.enough.sum()),  # type: ignore[attr-defined]
        },
    }
