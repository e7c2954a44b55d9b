"""Deal influence: which deals used an asset, pipeline and won revenue, on hand cases."""

import numpy as np

from closedloop.content.engine.influence import asset_influence, deal_asset_pairs, deals
from closedloop.content.engine.usage import DAY, NEVER, UsageKind, events

V, S, OPEN = int(UsageKind.BUYER_VIEW), int(UsageKind.SHARE), int(UsageKind.OPEN)
AS_OF = 100 * DAY


def company():
    # deal 0: 1000, created day 10, won day 40, contacts leads 0 and 1
    # deal 1: 500, created day 20, open, contact lead 1
    # deal 2: 300, created day 5, lost day 30, contact lead 2
    return deals(
        amount=[1000, 500, 300],
        created=[10 * DAY, 20 * DAY, 5 * DAY],
        closed_at=[40 * DAY, NEVER, 30 * DAY],
        won=[True, False, False],
        contact_deal=[0, 0, 1, 2],
        contact_lead=[0, 1, 1, 2],
    )


def touches():
    return events(
        asset=[0, 1, 1, 2, 2, 3],
        kind=[V, V, S, V, OPEN, V],
        at=[25 * DAY, 35 * DAY, 5 * DAY, -400 * DAY, 12 * DAY, 90 * DAY],
        lead=[1, 2, 0, 0, -1, 1],
        rep=[-1, -1, 4, -1, 4, -1],
    )


def test_a_view_by_a_contact_of_two_deals_touches_both():
    pairs = deal_asset_pairs(touches(), company(), as_of=AS_OF)
    assert list(zip(pairs.asset.tolist(), pairs.deal.tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (1, 0),  # shared with lead 0 five days before deal 0 was created
        (3, 1),  # deal 1 is still open on day 90
    ]


def test_views_after_the_close_or_before_the_lookback_do_not_count():
    pairs = deal_asset_pairs(touches(), company(), as_of=AS_OF)
    assert (1, 2) not in set(zip(pairs.asset.tolist(), pairs.deal.tolist(), strict=True))
    assert 2 not in pairs.asset.tolist()  # 400 days before: outside the 365-day lookback
    wide = deal_asset_pairs(touches(), company(), as_of=AS_OF, lookback_days=500)
    assert (2, 0) in set(zip(wide.asset.tolist(), wide.deal.tolist(), strict=True))


def test_pipeline_and_won_revenue_sum_the_deals_each_asset_touched():
    dl = company()
    result = asset_influence(deal_asset_pairs(touches(), dl, as_of=AS_OF), dl, n_assets=4)
    assert result.deals.tolist() == [2, 1, 0, 1]
    assert result.won_deals.tolist() == [1, 1, 0, 0]
    assert result.pipeline.tolist() == [1500.0, 1000.0, 0.0, 500.0]
    assert result.won_revenue.tolist() == [1000.0, 1000.0, 0.0, 0.0]


def test_many_views_of_one_asset_in_one_deal_count_the_deal_once():
    dl = company()
    ev = events(asset=[0, 0, 0], kind=[V, V, S], at=[15 * DAY] * 3, lead=[0, 1, 0], rep=[-1] * 3)
    result = asset_influence(deal_asset_pairs(ev, dl, as_of=AS_OF), dl, n_assets=1)
    assert result.deals.tolist() == [2]
    assert result.pipeline.tolist() == [1500.0]


def test_no_deals_and_no_events_give_zeros():
    empty = deals(amount=[], created=[], closed_at=[], won=[], contact_deal=[], contact_lead=[])
    ev = events(asset=[], kind=[], at=[])
    result = asset_influence(deal_asset_pairs(ev, empty, as_of=AS_OF), empty, n_assets=2)
    assert result.pipeline.tolist() == [0.0, 0.0]
    assert np.all(result.deals == 0)
