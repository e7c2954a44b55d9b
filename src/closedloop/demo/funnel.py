"""Demo phases: who became MQL, SAL, SQL and opportunity, and the deals won and lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo import deals, mqlrule, names, sharing, truth
from closedloop.demo.arrays import Table, obj
from closedloop.demo.catalog import (
    ASSET_COUNT,
    DAY,
    KIND,
    LOST_REASONS,
    NULL_TIME,
    SENIORITY_RANK,
    TOUCH_KINDS,
)
from closedloop.vocabulary import TouchType

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder

# Amount of each product against a platform deal of the same company size.
PRODUCT_SCALE = {
    "Platform": 1.0,
    "Platform expansion": 0.6,
    "Analytics add-on": 0.35,
    "Enterprise plan": 2.2,
    "Pilot": 0.2,
    "Renewal uplift": 0.3,
}


def funnel(b: Builder) -> None:
    rng, n, as_of = b.streams[5], b.n, b.as_of
    p = b.propensity
    # Who became MQL, and when, is the contract's MQL rule (as in the app), not a coin flip.
    rule_at = mqlrule.rule_met_at(b, kinds=TOUCH_KINDS)
    met = rule_at != mqlrule.NEVER
    mql_at = np.where(met, rule_at, as_of + DAY) + rng.integers(60, 3600, n)
    rep = b.account["owner_rep"][b.lead["account"]]
    delay = rng.lognormal(np.log(b.hidden.rep_follow_up_minutes[rep]), truth.FOLLOW_UP_SIGMA)
    worked = delay < truth.NEVER_FOLLOWED_MINUTES
    first_touch = mql_at + (delay * 60).astype(np.int64)
    draw_mql = met
    p_sql = truth.sql_probability(p, delay)
    draw_sql = draw_mql & worked & (rng.random(n) < p_sql)
    accepted = draw_sql | (worked & (rng.random(n) < 0.45))
    draw_opp = draw_sql & (rng.random(n) < 0.78)
    sal_at = first_touch + (rng.uniform(0.2, 3, n) * DAY).astype(np.int64)
    sql_at = sal_at + ((rng.exponential(6, n) + 0.5) * DAY).astype(np.int64)
    opp_at = sql_at + ((rng.exponential(4, n) + 0.2) * DAY).astype(np.int64)
    exit_at = first_touch + ((rng.exponential(12, n) + 1) * DAY).astype(np.int64)
    exit_at = np.where(accepted, np.maximum(exit_at, sal_at + 3600), exit_at)
    mql = draw_mql & (mql_at <= as_of)
    sal = mql & accepted & (sal_at <= as_of)
    sql = sal & draw_sql & (sql_at <= as_of)
    b.flow = dict(
        rep=rep,
        delay=delay,
        worked=worked,
        draw_sql=draw_sql,
        mql_at=mql_at,
        first_touch=first_touch,
        sal_at=sal_at,
        sql_at=sql_at,
        opp_at=opp_at,
        exit_at=exit_at,
        accepted=accepted,
        mql=mql,
        sal=sal,
        sql=sql,
        opp=sql & draw_opp & (opp_at <= as_of),
        worked_exit=mql & worked & ~draw_sql & (exit_at <= as_of),
        disqualify=rng.random(n) < truth.sigmoid(-1.2 * b.fit - 0.8),
        unworked_exit=mql & ~worked & (mql_at + 30 * DAY <= as_of),
        sql_exit=sql & ~draw_opp,
        sql_exit_at=sql_at + ((rng.exponential(20, n) + 1) * DAY).astype(np.int64),
        promote_at=_promotion_times(b, mql_at, draw_mql),
    )
    f = b.flow
    f["sql_exit"] &= f["sql_exit_at"] <= as_of


def _promotion_times(b: Builder, mql_at, draw_mql) -> np.ndarray:
    """When a subscriber became a lead: their first later form, or just before MQL."""
    t, never = b.touch, np.iinfo(np.int64).max
    forms = np.flatnonzero((t["kind"] == KIND["form"]) & ~t["is_first"])
    leads, index = np.unique(t["lead"][forms], return_index=True)
    form_at = np.full(b.n, never, dtype=np.int64)
    form_at[leads] = t["at"][forms[index]]
    promote = np.minimum(form_at, np.where(draw_mql, mql_at - 60, never))
    return np.where(b.lead["subscriber"], promote, never)


def opportunities(b: Builder) -> None:
    """Deals: contacts of one account whose opportunities overlap share one deal; each deal is
    won with the truth's win probability and walks the contract's pipeline (`deals`)."""
    rng, f, acc = b.streams[6], b.flow, b.account
    leads = np.flatnonzero(f["opp"])
    leads = leads[np.lexsort((f["opp_at"][leads], b.lead["account"][leads]))]
    account = b.lead["account"]
    cycle = np.clip(
        rng.lognormal(np.log(40), 0.5, len(leads))
        * (acc["employees"][account[leads]] / 200) ** 0.15,
        7,
        365,
    )
    group, opp_account, created, close = _deal_groups(leads, account, f["opp_at"], cycle)
    count = len(opp_account)
    mean_fit = np.bincount(group, weights=b.fit[leads], minlength=count) / np.maximum(
        np.bincount(group, minlength=count), 1
    )
    sharing.share_in_deals(
        b, leads=leads, group=group, account=opp_account, created=created, close=close
    )
    first_member = np.unique(group, return_index=True)[1] if count else np.zeros(0, np.int64)
    campaign = b.lead["campaign"][leads[first_member]] if count else np.zeros(0, np.int64)
    won = rng.random(count) < truth.win_probability(
        mean_fit=mean_fit,
        content_effect=_content_effect(b, leads, group, close, count),
        campaign_quality=np.where(campaign >= 0, b.campaign_quality[np.maximum(campaign, 0)], 1.0),
    )
    b.opp = dict(count=count, leads=leads, group=group, account=opp_account, created=created)
    _close_deals(b, rng, won=won, close=close, mean_fit=mean_fit)
    b.tables["opportunity"] = _opportunity_table(b, rng, campaign=campaign)
    opp = b.opp
    b.tables["opportunity_stage_change"] = deals.stage_change_table(
        path=opp["path"],
        codes=opp["codes"],
        final=opp["stage"],
        close=close,
        closed=opp["closed"],
        by=b.rep_ids[b.account["owner_rep"][opp_account]],
    )
    _opportunity_contacts(b, leads, group)


def _close_deals(b: Builder, rng, *, won, close, mean_fit) -> None:
    """Outcome, reason, stage path and stage of each deal (b.opp)."""
    opp, codes = b.opp, deals.open_stages(b.contract)
    closed = close <= b.as_of
    employees = b.account["employees"][opp["account"]]
    path = deals.stage_path(
        rng, created=opp["created"], close=close, won=won, closed=closed, as_of=b.as_of,
        stages=len(codes),
    )  # fmt: skip
    stage = np.where(closed, np.where(won, "won", "lost"), np.array(codes)[path["reached"] - 1])
    opp.update(
        close=close,
        closed=closed,
        won=won & closed,
        lost=~won & closed,
        stage=stage.astype(object),
        reason=_lost_reasons(rng, employees, mean_fit),
        won_reason=deals.won_reasons(rng, employees, mean_fit),
        path=path,
        codes=codes,
        employees=employees,
    )


def _deal_groups(leads, account, opp_at, cycle) -> tuple[np.ndarray, ...]:
    """(deal of each lead, and per deal: account, created, close). Leads come sorted by
    account, then time: a contact joins the account's open deal, or opens a new one."""
    group = np.empty(len(leads), dtype=np.int64)
    opp_account, opp_created, opp_close = [], [], []
    for i, lead in enumerate(leads):
        if opp_account and opp_account[-1] == account[lead] and opp_at[lead] <= opp_close[-1]:
            group[i] = len(opp_account) - 1
            continue
        group[i] = len(opp_account)
        opp_account.append(account[lead])
        opp_created.append(opp_at[lead])
        opp_close.append(opp_at[lead] + int(cycle[i] * DAY))
    arrays = (np.array(x, dtype=np.int64) for x in (opp_account, opp_created, opp_close))
    return (group, *arrays)


def _lost_reasons(rng, employees, mean_fit) -> np.ndarray:
    """A lost reason per deal: small companies lack budget, poor fits lack product fit."""
    count = len(employees)
    weights = (
        np.full(count, 1.0),
        np.full(count, 1.2),
        np.where(employees < 100, 1.5, 0.4),
        np.full(count, 1.0),
        np.full(count, 0.8),
        np.where(mean_fit < 0, 1.6, 0.3),
    )
    return deals.weighted_pick(rng, weights, LOST_REASONS)


def _opportunity_table(b: Builder, rng, *, campaign) -> Table:
    opp, acc = b.opp, b.account
    count, opp_account, close, closed = opp["count"], opp["account"], opp["close"], opp["closed"]
    pick = rng.integers(0, len(names.OPPORTUNITY_PRODUCTS), count)
    product = np.array(names.OPPORTUNITY_PRODUCTS, object)[pick]
    scale = np.array([PRODUCT_SCALE[p] for p in names.OPPORTUNITY_PRODUCTS])[pick]
    size = (opp["employees"] / 50) ** 0.45 * rng.lognormal(0, 0.3, count)
    amount = np.maximum(6000 * scale * size / 500, 3).round() * 500
    lost, won = opp["stage"] == "lost", opp["stage"] == "won"
    reason = np.where(won, opp["won_reason"], np.where(lost, opp["reason"], ""))
    path = opp["path"]
    stage_at = np.where(closed, close, path["entered"][np.arange(count), path["reached"] - 1])
    return Table(
        "crm.Opportunity",
        {
            "id": np.arange(1, count + 1),
            "version": np.ones(count, dtype=np.int64),
            "created_at": opp["created"],
            "updated_at": stage_at,
            "account_id": opp_account + 1,
            "name": acc["name"][opp_account] + " – " + product,
            "amount": amount,
            "stage": opp["stage"],
            "stage_entered_at": stage_at,
            "close_date": close,
            "closed_at": np.where(closed, close, NULL_TIME),
            "lost_reason": np.where(lost, opp["reason"], "").astype(object),
            "won_reason": np.where(won, opp["won_reason"], "").astype(object),
            "close_note": deals.close_notes(opp["stage"], reason),
            "next_step": deals.next_steps(
                rng, position=path["reached"] - 1, stages=len(opp["codes"]), closed=closed
            ),
            "owner_id": b.rep_ids[acc["owner_rep"][opp_account]],
            "campaign_id": np.where(campaign >= 0, campaign + 1, -1),
        },
    )


def _content_effect(b: Builder, leads, group, close, count) -> np.ndarray:
    """Summed effectiveness of the distinct assets each deal's contacts viewed before close."""
    t = b.touch
    member = np.full(b.n, -1, dtype=np.int64)
    member[leads] = group
    views = np.flatnonzero(
        (t["asset"] >= 0) & (t["kind"] == KIND[TouchType.CONTENT_VIEW]) & (member[t["lead"]] >= 0)
    )
    deal = member[t["lead"][views]]
    views, deal = views[t["at"][views] <= close[deal]], deal[t["at"][views] <= close[deal]]
    pairs = np.unique(deal * ASSET_COUNT + t["asset"][views])
    return np.bincount(
        pairs // ASSET_COUNT, weights=b.asset_effect[pairs % ASSET_COUNT], minlength=count
    )


def _opportunity_contacts(b: Builder, leads, group) -> None:
    rank = obj(b.lead["seniority"][leads])
    rank = np.array([SENIORITY_RANK[s] for s in rank], dtype=np.int64)
    order = np.lexsort((rank, group))
    position = np.empty(len(leads), dtype=np.int64)
    starts = np.searchsorted(group[order], group[order])
    position[order] = np.arange(len(leads)) - starts
    role = np.where(
        position == 0,
        np.where(rank <= 2, "decision_maker", "champion"),
        np.where(position == 1, "champion", np.where(rank == 4, "user", "influencer")),
    ).astype(object)
    b.tables["opportunity_contact"] = Table(
        "crm.OpportunityContact",
        {
            "id": np.arange(1, len(leads) + 1),
            "opportunity_id": group + 1,
            "lead_id": leads + 1,
            "role": role,
        },
    )
