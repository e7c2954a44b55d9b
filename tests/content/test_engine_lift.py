"""Win-rate lift and its interval, checked against published and hand-computed figures."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop.content.engine.influence import Pairs, deals
from closedloop.content.engine.lift import newcombe, win_rate_lift
from closedloop.content.engine.usage import DAY, NEVER


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_the_interval_is_newcombes_hybrid_score_interval(x1, n1, x0, n0, low, high):
    lo, hi = newcombe(np.array([x1 / n1]), np.array([n1]), np.array([x0 / n0]), np.array([n0]))
    assert (round(lo[0], 4), round(hi[0], 4)) == (low, high)


def closed_deals(cells):
    """Deals from (stratum, used, won, how many) cells; every deal is closed and used asset 0
    when `used`."""
    stratum, used, won = [], [], []
    for s, u, w, count in cells:
        stratum += [s] * count
        used += [u] * count
        won += [w] * count
    n = len(stratum)
    dl = deals(
        amount=np.ones(n),
        created=np.zeros(n, np.int64),
        closed_at=np.full(n, 10 * DAY),
        won=won,
        contact_deal=[],
        contact_lead=[],
        stratum=stratum,
    )
    used_deals = np.flatnonzero(used)
    return dl, Pairs(np.zeros(len(used_deals), np.int64), used_deals)


def test_deals_are_compared_within_their_stratum():
    # Small deals (stratum 0) win half the time, large ones (1) a fifth. The asset is used
    # mostly in large deals: 8 of 10 small users won, 9 of 30 large users won.
    dl, pairs = closed_deals(
        [
            (0, True, True, 8), (0, True, False, 2),
            (0, False, True, 20), (0, False, False, 20),
            (1, True, True, 9), (1, True, False, 21),
            (1, False, True, 2), (1, False, False, 8),
        ]
    )  # fmt: skip
    lift = win_rate_lift(pairs, dl, n_assets=1, exposure_edges=())
    assert lift.used.tolist() == [40]
    assert lift.used_won.tolist() == [17]
    assert lift.used_rate[0] == pytest.approx(17 / 40)
    # The users' mix: a quarter small, three quarters large -> 0.25 * 0.5 + 0.75 * 0.2.
    assert lift.comparable_rate[0] == pytest.approx(0.275)
    assert lift.lift[0] == pytest.approx(0.15)  # unstratified it would be 17/40 - 22/50 < 0
    # Effective comparison size 1 / (0.25^2 / 40 + 0.75^2 / 10).
    assert lift.comparison_size[0] == pytest.approx(1 / 0.0578125)
    expected = newcombe(
        np.array([17 / 40]), np.array([40.0]), np.array([0.275]), np.array([1 / 0.0578125])
    )
    assert (lift.low[0], lift.high[0]) == pytest.approx((expected[0][0], expected[1][0]))
    assert lift.enough.tolist() == [False]  # 17.3 effective comparable deals < 20


def test_a_stratum_without_deals_that_did_not_use_the_asset_is_left_out():
    dl, pairs = closed_deals([(0, True, True, 30), (0, False, False, 30), (1, True, True, 5)])
    lift = win_rate_lift(pairs, dl, n_assets=1, exposure_edges=())
    assert lift.used.tolist() == [30]
    assert lift.lift[0] == pytest.approx(1.0)
    assert lift.enough.tolist() == [True]


def test_open_deals_do_not_count_and_too_few_users_is_not_enough_data():
    dl, pairs = closed_deals([(0, True, True, 19), (0, False, False, 50)])
    lift = win_rate_lift(pairs, dl, n_assets=2, exposure_edges=())
    assert lift.enough.tolist() == [False, False]
    assert lift.used.tolist() == [19, 0]
    assert math.isnan(lift.lift[1])
    still_open = dl.__class__(
        dl.amount, dl.created, np.where(np.arange(len(dl)) < 5, NEVER, dl.closed_at),
        dl.won, dl.stratum, dl.contact_deal, dl.contact_lead,
    )  # fmt: skip
    assert win_rate_lift(pairs, still_open, n_assets=1, exposure_edges=()).used.tolist() == [14]


@given(st.integers(0, 60), st.integers(1, 60), st.integers(0, 60), st.integers(1, 60))
def test_the_interval_holds_the_estimate_and_stays_within_minus_one_and_one(x1, n1, x0, n0):
    x1, x0 = min(x1, n1), min(x0, n0)
    lo, hi = newcombe(np.array([x1 / n1]), np.array([n1]), np.array([x0 / n0]), np.array([n0]))
    d = x1 / n1 - x0 / n0
    assert -1 - 1e-9 <= lo[0] <= d + 1e-9
    assert d - 1e-9 <= hi[0] <= 1 + 1e-9


def test_deals_are_compared_with_deals_that_used_as_much_content():
    # 60 closed deals: 20 used no content (won 2), 20 used asset 1 only (won 10), 20 used
    # assets 0 and 1 (won 14). Against every non-user, asset 0 would look far better than
    # it is; against deals that also used two assets, it has no comparison at all, and
    # asset 1's users that used one asset are compared with nothing either.
    n = 60
    dl = deals(
        amount=np.ones(n),
        created=np.zeros(n, np.int64),
        closed_at=np.full(n, DAY),
        won=np.r_[np.arange(20) < 2, np.arange(20) < 10, np.arange(20) < 14],
        contact_deal=[],
        contact_lead=[],
    )
    both = np.arange(40, 60)
    pairs = Pairs(
        np.r_[np.zeros(20, np.int64), np.ones(40, np.int64)],
        np.r_[both, np.arange(20, 40), both],
    )
    naive = win_rate_lift(pairs, dl, n_assets=2, exposure_edges=())
    assert naive.lift[0] == pytest.approx(14 / 20 - 12 / 40)
    banded = win_rate_lift(pairs, dl, n_assets=2, exposure_edges=(1, 2))
    assert banded.used.tolist() == [0, 0]  # no deal that used two assets skipped either
    assert banded.enough.tolist() == [False, False]
