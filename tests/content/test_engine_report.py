"""The joined report: every part computed from the same events and deals."""

import numpy as np

from closedloop.content.engine.influence import deals
from closedloop.content.engine.report import Settings, asset_report
from closedloop.content.engine.review import Freshness, Reason
from closedloop.content.engine.usage import DAY, NEVER, UsageKind, events

AS_OF = 400 * DAY
V, S, OPEN = int(UsageKind.BUYER_VIEW), int(UsageKind.SHARE), int(UsageKind.OPEN)


def test_a_report_over_three_assets():
    # 40 closed deals, one contact each (lead i); asset 0 was viewed in the 20 deals that
    # were won, asset 1 opened once by a rep 20 days ago, asset 2 never touched.
    n = 40
    won = np.arange(n) < 20
    dl = deals(
        amount=np.full(n, 100.0),
        created=np.full(n, 300 * DAY),
        closed_at=np.full(n, 350 * DAY),
        won=won,
        contact_deal=np.arange(n),
        contact_lead=np.arange(n),
    )
    ev = events(
        asset=[0] * 20 + [0, 1],
        kind=[V] * 20 + [S, OPEN],
        at=[320 * DAY] * 20 + [390 * DAY, 380 * DAY],
        lead=list(range(20)) + [0, -1],
        rep=[-1] * 20 + [3, 3],
    )
    report = asset_report(
        ev,
        dl,
        n_assets=3,
        as_of=AS_OF,
        review_by=np.array([AS_OF + 100 * DAY, AS_OF - DAY, NEVER]),
        settings=Settings(min_used=10, min_comparison=10, exposure_edges=()),
    )
    assert report.influence.won_revenue.tolist() == [2000.0, 0.0, 0.0]
    assert report.lift.lift[0] == 1.0 and report.lift.enough[0]
    assert report.unused_share == 1 / 3  # asset 2 had no sales use in 90 days
    assert report.freshness == [Freshness.FRESH, Freshness.OVERDUE, Freshness.NO_DATE]
    assert report.bottom.order.tolist() == [2]  # ceil(0.2 * 3): never found comes first
    assert report.bottom.reasons == [
        Reason.SHARED_WITH_LIFT,
        Reason.OPENED_NOT_SHARED,
        Reason.NEVER_FOUND,
    ]
