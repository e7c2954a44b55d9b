"""The demo company's content: the influence analytics find its hidden truth.

The demo draws each asset's hidden effect on the odds of winning (`demo.truth`); deals whose
contacts viewed effective assets win more often. Measured at the demo's default size
(20,000 leads, seed 7) with the engine, as the app's report measures it, the lift must rank
the assets like the truth does, and the bottom 20% must hold weak or unused assets.
"""

import numpy as np
import pytest

from closedloop.content.engine.influence import deals
from closedloop.content.engine.report import asset_report
from closedloop.content.engine.usage import DAY, NEVER, UsageKind, events
from closedloop.demo import synth

AS_OF = 1_795_000_000 // DAY * DAY
USERS = {seat.email: number + 1 for number, seat in enumerate(synth.ROSTER)}
SIZE_BANDS = (50, 200, 1000, 5000)  # employees: the strata the app's report uses
REP_KINDS = {"open": UsageKind.OPEN, "download": UsageKind.DOWNLOAD}
REP_KINDS |= {"present": UsageKind.PRESENT, "share": UsageKind.SHARE}


def spearman(a, b):
    ranks = [np.argsort(np.argsort(x)) for x in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


@pytest.fixture(scope="module")
def demo():
    company = synth.generate_company(leads=20_000, seed=7, as_of=AS_OF, users=USERS)
    return company, _report(company)


def _report(company):
    t = {name: table.columns for name, table in company.tables.items()}
    return asset_report(_events(t), _deals(t), n_assets=synth.ASSET_COUNT, as_of=AS_OF)


def _events(t):
    touch, usage = t["touchpoint"], t["usage_event"]
    view = (touch["type"] == "content_view") & (touch["content_id"] > 0)
    kind = np.array([REP_KINDS[k] for k in usage["kind"]], dtype=np.int8)
    lead = np.where(usage["lead_id"] > 0, usage["lead_id"] - 1, NEVER)
    return events(
        asset=np.r_[touch["content_id"][view], usage["asset_id"]] - 1,
        kind=np.r_[np.zeros(view.sum(), np.int8), kind],
        at=np.r_[touch["occurred_at"][view], usage["at"]],
        lead=np.r_[touch["lead_id"][view] - 1, lead],
        rep=np.r_[np.full(view.sum(), NEVER), usage["user_id"]],
    )


def _deals(t):
    opp, contact, account = t["opportunity"], t["opportunity_contact"], t["account"]
    closed = np.isin(opp["stage"], ["won", "lost"])
    employees = account["employees"][opp["account_id"] - 1]
    return deals(
        amount=opp["amount"],
        created=opp["created_at"],
        closed_at=np.where(closed, opp["closed_at"], NEVER),
        won=opp["stage"] == "won",
        contact_deal=contact["opportunity_id"] - 1,
        contact_lead=contact["lead_id"] - 1,
        stratum=np.searchsorted(SIZE_BANDS, employees, side="right"),
    )


def test_the_measured_lift_ranks_the_assets_like_their_hidden_effect(demo):
    company, report = demo
    measured = report.lift.enough
    assert measured.sum() >= 25  # of 40 assets
    effect = company.hidden.asset_effectiveness
    assert spearman(report.lift.lift[measured], effect[measured]) >= 0.6


def test_the_bottom_fifth_is_mostly_weak_or_unused_assets(demo):
    company, report = demo
    effect = company.hidden.asset_effectiveness
    unused = report.usage.last_sales_use_at < AS_OF - 90 * DAY
    bottom = report.bottom.order
    assert len(bottom) == 8
    weak_or_unused = (effect[bottom] < 0.3) | unused[bottom]
    assert weak_or_unused.mean() >= 0.75


def test_a_good_part_of_the_library_was_not_used_by_sales_in_90_days(demo):
    _company, report = demo
    assert 0.15 <= report.unused_share <= 0.6
