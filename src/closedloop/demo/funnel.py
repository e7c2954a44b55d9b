"""Demo phases: who became MQL, SAL, SQL and opportunity, and the deals won and lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo import mqlrule, names, sharing, truth
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

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder


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
    won with the truth's win probability, lost ones get a reason; open ones have a stage."""
    rng, f, acc, as_of = b.streams[6], b.flow, b.account, b.as_of
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
    content = _content_effect(b, leads, group, close, count)
    first_member = np.unique(group, return_index=True)[1] if count else np.zeros(0, np.int64)
    campaign = b.lead["campaign"][leads[first_member]] if count else np.zeros(0, np.int64)
    quality = np.where(campaign >= 0, b.campaign_quality[np.maximum(campaign, 0)], 1.0)
    won = rng.random(count) < truth.win_probability(
        mean_fit=mean_fit, content_effect=content, campaign_quality=quality
    )
    closed = close <= as_of
    stage = _deal_stage(won, closed, created, close, as_of)
    employees = acc["employees"][opp_account]
    reason = _lost_reasons(rng, employees, mean_fit)
    b.opp = dict(
        count=count,
        leads=leads,
        group=group,
        account=opp_account,
        created=created,
        close=close,
        closed=closed,
        won=won & closed,
        lost=~won & closed,
        stage=stage,
        reason=reason,
    )
    b.tables["opportunity"] = _opportunity_table(b, rng, campaign=campaign, employees=employees)
    _opportunity_contacts(b, leads, group)


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


def _deal_stage(won, closed, created, close, as_of) -> np.ndarray:
    """Won or lost once closed; open deals by how far through their cycle they are."""
    elapsed = (as_of - created) / np.maximum(close - created, 1)
    open_stage = np.where(
        elapsed < 0.4, "discovery", np.where(elapsed < 0.75, "proposal", "negotiation")
    )
    return np.where(closed, np.where(won, "won", "lost"), open_stage).astype(object)


def _lost_reasons(rng, employees, mean_fit) -> np.ndarray:
    """A lost reason per deal: small companies lack budget, poor fits lack product fit."""
    count = len(employees)
    lost_weights = np.stack(
        [
            np.full(count, 1.0),
            np.full(count, 1.2),
            np.where(employees < 100, 1.5, 0.4),
            np.full(count, 1.0),
            np.full(count, 0.8),
            np.where(mean_fit < 0, 1.6, 0.3),
        ],
        axis=1,
    )
    cumulative = lost_weights.cumsum(1) / lost_weights.sum(1, keepdims=True)
    return np.array(LOST_REASONS, dtype=object)[(cumulative < rng.random((count, 1))).sum(1)]


def _opportunity_table(b: Builder, rng, *, campaign, employees) -> Table:
    opp, acc = b.opp, b.account
    count, opp_account, close, closed = opp["count"], opp["account"], opp["close"], opp["closed"]
    amount = (6000 * (employees / 50) ** 0.45 * rng.lognormal(0, 0.35, count)).round(-2)
    product = np.array(names.OPPORTUNITY_PRODUCTS, object)[
        rng.integers(0, len(names.OPPORTUNITY_PRODUCTS), count)
    ]
    return Table(
        "crm.Opportunity",
        {
            "id": np.arange(1, count + 1),
            "version": np.ones(count, dtype=np.int64),
            "created_at": opp["created"],
            "updated_at": np.where(closed, close, opp["created"]),
            "account_id": opp_account + 1,
            "name": acc["name"][opp_account] + " – " + product,
            "amount": amount,
            "stage": opp["stage"],
            "close_date": close,
            "closed_at": np.where(closed, close, NULL_TIME),
            "lost_reason": np.where(opp["stage"] == "lost", opp["reason"], "").astype(object),
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
        (t["asset"] >= 0) & (t["kind"] == KIND["content_view"]) & (member[t["lead"]] >= 0)
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
