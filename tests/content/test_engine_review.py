"""Freshness and the bottom 20% with its reasons, on hand cases."""

import math

import numpy as np

from closedloop.content.engine.review import Freshness, Funnel, Reason, bottom, freshness, levels
from closedloop.content.engine.usage import DAY, NEVER

NAN = math.nan


def test_freshness_against_the_review_by_date():
    as_of = 100 * DAY
    review_by = np.array([200 * DAY, 120 * DAY, 90 * DAY, NEVER])
    labels, days = freshness(review_by, as_of=as_of)
    assert labels == [Freshness.FRESH, Freshness.DUE_SOON, Freshness.OVERDUE, Freshness.NO_DATE]
    assert days[:3].tolist() == [100.0, 20.0, -10.0]
    assert math.isnan(days[3])


def funnel():
    # 0 hurts, 1 never found, 2 found not opened, 3 opened not shared, 4 shared rarely,
    # 5 shared no lift, 6 shared with lift, 7 shared no lift but higher than 5.
    return Funnel(
        found=np.array([9, 0, 4, 9, 9, 9, 9, 9]),
        opened=np.array([9, 0, 0, 3, 9, 9, 9, 9]),
        shared=np.array([50, 0, 0, 0, 2, 50, 50, 50]),
        lift=np.array([-0.3, NAN, NAN, NAN, 0.2, -0.05, 0.25, 0.05]),
        low=np.array([-0.45, NAN, NAN, NAN, -0.4, -0.2, 0.1, -0.1]),
        high=np.array([-0.1, NAN, NAN, NAN, 0.7, 0.1, 0.4, 0.2]),
        enough=np.array([True, False, False, False, False, True, True, True]),
    )


def test_each_asset_gets_the_level_where_it_stopped():
    assert levels(funnel()).tolist() == [0, 1, 2, 3, 4, 4, 5, 4]


def test_the_bottom_is_worst_first_and_each_asset_says_why():
    result = bottom(funnel(), eligible=np.ones(8, bool), share=0.5)
    assert result.order.tolist() == [0, 1, 2, 3]
    assert result.reasons == [
        Reason.SHARED_NO_LIFT,
        Reason.NEVER_FOUND,
        Reason.FOUND_NOT_OPENED,
        Reason.OPENED_NOT_SHARED,
        Reason.SHARED_NO_LIFT,
        Reason.SHARED_NO_LIFT,
        Reason.SHARED_WITH_LIFT,
        Reason.SHARED_NO_LIFT,
    ]


def test_the_bottom_fifth_rounds_up_and_skips_ineligible_assets():
    eligible = np.array([False, False, True, True, True, True, True, True])
    result = bottom(funnel(), eligible=eligible)
    assert result.order.tolist() == [2, 3]  # ceil(0.2 * 6) = 2
    whole = bottom(funnel(), eligible=np.ones(8, bool), share=1.0)
    # Within "shared but no lift": the lowest measured lift first (5), an unmeasured one
    # counts as none (4), then 7.
    assert whole.order.tolist() == [0, 1, 2, 3, 5, 4, 7, 6]
