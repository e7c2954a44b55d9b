"""Per-asset usage counts on hand-computed cases."""

import numpy as np

from closedloop.content.engine.usage import (
    DAY,
    NEVER,
    UsageKind,
    asset_usage,
    distinct_per_asset,
    events,
    unique,
    unused_share,
)

V, S, OPEN, D, P = (int(k) for k in UsageKind)  # view, share, open, download, present


def small():
    # asset 0: rep 0 shares with lead 0, lead 0 views it, rep 1 opens it, rep 0 presents it;
    # asset 1: rep 0 opens it; lead 3 views it from the website (no rep);
    # asset 2: nothing.
    return events(
        asset=[0, 0, 0, 0, 1, 1],
        kind=[S, V, OPEN, P, OPEN, V],
        at=[100, 200, 50, 300, 10, 400],
        lead=[0, 0, -1, -1, -1, 3],
        rep=[0, 0, 1, 0, 0, -1],
    )


def test_counts_per_asset_and_kind():
    usage = asset_usage(small(), n_assets=3)
    assert usage.count(UsageKind.SHARE).tolist() == [1, 0, 0]
    assert usage.count(UsageKind.BUYER_VIEW).tolist() == [1, 1, 0]
    assert usage.count(UsageKind.OPEN).tolist() == [1, 1, 0]
    assert usage.count(UsageKind.PRESENT).tolist() == [1, 0, 0]
    assert usage.count(UsageKind.DOWNLOAD).tolist() == [0, 0, 0]


def test_reps_count_who_used_it_and_leads_who_saw_it_each_once():
    usage = asset_usage(small(), n_assets=3)
    assert usage.reps.tolist() == [2, 1, 0]
    assert usage.leads.tolist() == [1, 1, 0]


def test_last_use_is_any_event_and_last_sales_use_only_what_reps_did():
    usage = asset_usage(small(), n_assets=3)
    assert usage.last_used_at.tolist() == [300, 400, NEVER]
    assert usage.last_sales_use_at.tolist() == [300, 10, NEVER]


def test_distinct_counts_agree_on_the_dense_and_the_sorted_path(monkeypatch):
    rng = np.random.default_rng(3)
    asset, other = rng.integers(0, 50, 5000), rng.integers(-1, 400, 5000)
    dense = distinct_per_asset(asset, other, n_assets=50)
    monkeypatch.setattr("closedloop.content.engine.usage._DENSE_CELLS", 0)
    assert distinct_per_asset(asset, other, n_assets=50).tolist() == dense.tolist()
    pairs = set(zip(asset.tolist(), other.tolist(), strict=True))
    expected = [len({o for a, o in pairs if a == i and o >= 0}) for i in range(50)]
    assert dense.tolist() == expected


def test_unique_is_sorted_and_distinct():
    assert unique(np.array([5, 1, 5, 3, 1], dtype=np.int64)).tolist() == [1, 3, 5]
    assert unique(np.array([], dtype=np.int64)).tolist() == []


def test_unused_share_counts_eligible_assets_without_use_in_ninety_days():
    as_of = 1000 * DAY
    last = np.array([as_of - 10 * DAY, as_of - 91 * DAY, NEVER, as_of - 5 * DAY])
    eligible = np.array([True, True, True, False])
    assert unused_share(last, as_of=as_of, eligible=eligible) == 2 / 3
    assert unused_share(last, as_of=as_of, eligible=np.zeros(4, bool)) == 0.0
