"""Demo phases: rep activities, sales touches, stage history and the lead and account rows."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo import names
from closedloop.demo.arrays import Table, choice, obj
from closedloop.demo.catalog import (
    DAY,
    KIND,
    NOT_NOW,
    NULL_TIME,
    SOURCE_LABEL,
    TOUCH_CHANNEL,
    TOUCH_KINDS,
    WRONG_FIT,
)

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder


MILESTONES = (
    # (flow flag, time column, seconds before it, activity, outcome, note)
    ("sal", "sal_at", -600, "call", None, "Connected: interested, booked a meeting"),
    (
        "sql",
        "sql_at",
        -1800,
        "meeting",
        "connected",
        "Discovery meeting: budget, authority, need and timeline confirmed",
    ),
    ("opp", "opp_at", -1800, "meeting", "connected", "Solution presentation"),
)


def activities(b: Builder) -> None:
    """The reps' calls and emails: follow-up attempts (more for faster reps), the calls and
    meetings that moved a lead on, and the last call before a lead left the queue."""
    rng, f = b.streams[7], b.flow
    parts = [_attempts(b, rng), *_milestones(b), _exit_calls(f)]
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    keep = cols[1] <= b.as_of
    cols = [c[keep] for c in cols]
    order = np.lexsort((cols[1], cols[0]))
    lead, at, kind, outcome, notes = (c[order] for c in cols)
    b.activity = dict(lead=lead, at=at, kind=kind, outcome=outcome)
    count = len(lead)
    b.tables["activity"] = Table(
        "crm.Activity",
        {
            "id": np.arange(1, count + 1),
            "lead_id": lead + 1,
            "rep_id": b.rep_ids[f["rep"][lead]],
            "kind": kind,
            "outcome": outcome,
            "notes": notes,
            "at": at,
        },
    )


def _attempts(b: Builder, rng) -> tuple:
    """(lead, at, kind, outcome, notes) of the follow-up attempts on worked MQLs."""
    f = b.flow
    worked = np.flatnonzero(f["mql"] & f["worked"] & (f["first_touch"] <= b.as_of))
    phase_end = np.where(f["accepted"], f["sal_at"], f["exit_at"])[worked]
    minutes = b.hidden.rep_follow_up_minutes
    persistence = np.where(minutes < 30, 3.0, np.where(minutes < 300, 2.0, 1.0))
    attempts = 1 + rng.poisson(persistence[f["rep"][worked]])
    lead = np.repeat(worked, attempts)
    start = np.concatenate([[0], np.cumsum(attempts)[:-1]])
    gap = (rng.exponential(1.5, len(lead)) * DAY).astype(np.int64)
    gap[start] = 0
    cumulative = np.cumsum(gap) - np.repeat(np.cumsum(gap)[start] - gap[start], attempts)
    at = f["first_touch"][lead] + cumulative
    keep = (at < np.repeat(phase_end, attempts)) | (cumulative == 0)
    lead, at = lead[keep], at[keep]
    call = rng.random(len(lead)) < 0.6
    shares = {"no_answer": 0.5, "left_message": 0.35, "connected": 0.15}
    outcome = np.where(call, choice(rng, shares, len(lead)), "").astype(object)
    notes = np.where(
        outcome == "connected",
        "Short call: asked for more information",
        np.where(call, "Tried to reach", "Follow-up email sent"),
    ).astype(object)
    return lead, at, np.where(call, "call", "email").astype(object), outcome, notes


def _milestones(b: Builder) -> list[tuple]:
    f, parts = b.flow, []
    for flag, when, shift, act, result, note in MILESTONES:
        idx = np.flatnonzero(f[flag])
        if result is None:  # the accepting call booked a meeting when the lead went on to SQL
            result = np.where(f["draw_sql"], "meeting_booked", "connected")
        result = np.broadcast_to(np.asarray(result, dtype=object), (b.n,))[idx]
        kind, text = np.full(len(idx), act, object), np.full(len(idx), note, object)
        parts.append((idx, f[when][idx] + shift, kind, result, text))
    return parts


def _exit_calls(f: dict) -> tuple:
    exits = np.flatnonzero(f["worked_exit"])
    dq = f["disqualify"][exits]
    return (
        exits,
        f["exit_at"][exits] - 600,
        np.full(len(exits), "call", object),
        np.where(dq, "not_interested", "connected").astype(object),
        np.where(dq, "Not a fit", "Asked to reconnect later").astype(object),
    )


def touch_table(b: Builder) -> None:
    t, a = b.touch, b.activity
    sales = (a["kind"] == "meeting") | (
        (a["kind"] == "call") & (a["outcome"] != "no_answer") & (a["outcome"] != "left_message")
    )
    lead = np.concatenate([t["lead"], a["lead"][sales]])
    at = np.concatenate([t["at"], a["at"][sales]])
    kind = np.concatenate(
        [
            t["kind"],
            np.where(a["kind"][sales] == "meeting", KIND["meeting"], KIND["sales_call"]),
        ]
    )
    campaign = np.concatenate([t["campaign"], np.full(sales.sum(), -1)])
    asset = np.concatenate([t["asset"], np.full(sales.sum(), -1)])
    link = np.concatenate([t.get("link", np.full(len(t["lead"]), -1)), np.full(sales.sum(), -1)])
    order = np.lexsort((at, lead))
    lead, at, kind, campaign, asset, link = (
        x[order] for x in (lead, at, kind, campaign, asset, link)
    )
    count = len(lead)
    kinds = b.campaign_kind
    channel = np.array([TOUCH_CHANNEL[k] for k in TOUCH_KINDS], dtype=object)[kind]
    paid = (kind == KIND["ad_click"]) & (campaign >= 0)
    channel[paid] = np.where(kinds[campaign[paid]] == "paid_social", "social", "search")
    b.tables["touchpoint"] = Table(
        "engagement.Touchpoint",
        {
            "id": np.arange(1, count + 1),
            "lead_id": lead + 1,
            "type": np.array(TOUCH_KINDS, dtype=object)[kind],
            "channel": channel,
            "campaign_id": np.where(campaign >= 0, campaign + 1, -1),
            "content_id": np.where(asset >= 0, asset + 1, -1),
            "occurred_at": at,
            "received_at": at,
            "properties": _properties(b, kind, link),
        },
    )


def _properties(b: Builder, kind: np.ndarray, link: np.ndarray) -> np.ndarray:
    rng = b.streams[8]
    options = {
        "page_view": [{"path": p} for p in names.PAGE_PATHS],
        "form": [{"form": f} for f in names.FORMS],
        "ad_click": [{"utm_source": s} for s in ("google", "linkedin", "bing")],
        "webinar": [{"attended_minutes": m} for m in (15, 30, 45, 60)],
        "content_view": [{"seconds": s} for s in (20, 45, 90, 180, 400)],
        "sales_call": [{"logged_by": "rep"}],
    }
    out = np.full(len(kind), "{}", dtype=object)
    for touch_kind, values in options.items():
        mask = kind == KIND[touch_kind]
        encoded = np.array([json.dumps(v) for v in values], dtype=object)
        out[mask] = encoded[rng.integers(0, len(values), mask.sum())]
    # A view through a share link names it (sharing.py): the truth leaves those views out.
    shared = np.flatnonzero(link >= 0)
    out[shared] = [f'{{"share_link": {i + 1}}}' for i in link[shared].tolist()]
    return out


# -- stage history and the leads table ----------------------------------------------------
LOST_LABEL = {
    "price": "price",
    "competitor": "chose a competitor",
    "no_budget": "no budget",
    "no_decision": "no decision",
    "timing": "bad timing",
    "product_fit": "product fit",
    "": "",
}
# Days until a recycled lead re-enters, by how it was recycled ("not now" reasons in order).
NOT_NOW_DAYS = (90, 180, 120)
RECYCLE_DAYS = 90  # lost deals and MQLs nobody followed up
REENTRY_REASON = "Re-entry date reached: back to Lead"


def stage_history(b: Builder) -> None:
    """Every lead's stage changes (from its flow through the funnel), then the re-entries of
    recycled leads whose date has passed: they are back at stage Lead, as the app does it."""
    c = _sorted_changes(_steps(b), b.n)
    final, last_at = _final(c, b.n)
    due = (final == "recycled") & (last_at + b.recycle_days * DAY <= b.as_of)
    idx = np.flatnonzero(due)
    reentry = {
        "lead": idx,
        "to": np.full(len(idx), "lead", dtype=object),
        "at": last_at[idx] + b.recycle_days[idx] * DAY,
        "by": np.full(len(idx), -1, dtype=np.int64),
        "reason": np.full(len(idx), REENTRY_REASON, dtype=object),
        "step": np.full(len(idx), 99),
    }
    c = _sorted_changes([{k: np.concatenate([c[k], reentry[k]]) for k in c}], b.n)
    b.final_stage, b.last_change_at = _final(c, b.n)
    b.tables["stage_change"] = _stage_change_table(c)


def _won_lost(b: Builder) -> dict:
    opp, n = b.opp, b.n
    out = {
        "won": np.zeros(n, bool),
        "lost": np.zeros(n, bool),
        "close_at": np.zeros(n, np.int64),
        "reason": np.full(n, "", dtype=object),
    }
    for key, values in (("won", opp["won"]), ("lost", opp["lost"])):
        out[key][opp["leads"]] = values[opp["group"]]
    out["close_at"][opp["leads"]] = opp["close"][opp["group"]]
    out["reason"][opp["leads"]] = opp["reason"][opp["group"]]
    return out


def _steps(b: Builder) -> list[dict]:
    """(which leads, to stage, when, by, reason) for each step of the funnel, as columns."""
    f, lead, rng, n = b.flow, b.lead, b.streams[9], b.n
    rep_id = b.rep_ids[f["rep"]]
    outbound = lead["source"] == "outbound"
    initial = np.where(lead["subscriber"], "subscriber", "lead").astype(object)
    created_reason = obj(f"Created: {SOURCE_LABEL[s]}" for s in lead["source"])
    deal = _won_lost(b)
    dq = f["disqualify"]
    pick = rng.integers(0, len(NOT_NOW), n)
    not_now = np.array(NOT_NOW, dtype=object)[pick]
    wrong_fit = np.array(WRONG_FIT, dtype=object)[rng.integers(0, len(WRONG_FIT), n)]
    not_now_exit = (f["worked_exit"] & ~dq) | f["sql_exit"]
    b.recycle_days = np.where(not_now_exit, np.array(NOT_NOW_DAYS)[pick], RECYCLE_DAYS)
    lost_reason = obj("Opportunity lost: " + LOST_LABEL[r] for r in deal["reason"])
    qualified = "Qualified: budget, authority, need and timeline confirmed"
    unworked = "Not followed up within 30 days: back to nurture"
    steps = [
        (np.ones(n, bool), initial, lead["created"], np.where(outbound, rep_id, -1),
         created_reason),
        (lead["subscriber"] & (f["promote_at"] <= b.as_of), "lead", f["promote_at"], -1,
         "Filled in a form"),
        (f["mql"], "mql", f["mql_at"], -1, "MQL rule: engagement and fit thresholds met"),
        (f["sal"], "sal", f["sal_at"], rep_id, "Accepted by sales"),
        (f["sql"], "sql", f["sql_at"], rep_id, qualified),
        (f["opp"], "opportunity", f["opp_at"], rep_id, "Opportunity opened"),
        (deal["won"], "customer", deal["close_at"], rep_id, "Closed won"),
        (deal["lost"], "recycled", deal["close_at"], rep_id, lost_reason),
        (f["worked_exit"] & dq, "disqualified", f["exit_at"], rep_id, wrong_fit),
        (f["worked_exit"] & ~dq, "recycled", f["exit_at"], rep_id, not_now),
        (f["unworked_exit"], "recycled", f["mql_at"] + 30 * DAY, -1, unworked),
        (f["sql_exit"], "recycled", f["sql_exit_at"], rep_id, not_now),
    ]  # fmt: skip
    return [_step_columns(number, step, n) for number, step in enumerate(steps)]


def _step_columns(number: int, step: tuple, n: int) -> dict:
    mask, to, at, by, reason = step
    idx = np.flatnonzero(mask)
    return {
        "lead": idx,
        "to": np.broadcast_to(np.asarray(to, dtype=object), (n,))[idx],
        "at": np.asarray(at)[idx],
        "by": np.broadcast_to(np.asarray(by, dtype=np.int64), (n,))[idx],
        "reason": np.broadcast_to(np.asarray(reason, dtype=object), (n,))[idx],
        "step": np.full(len(idx), number),
    }


def _sorted_changes(parts: list[dict], n: int) -> dict:
    c = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((c["step"], c["at"], c["lead"]))
    return {k: v[order] for k, v in c.items()}


def _final(c: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's stage after its last change, and when that change happened."""
    last = np.concatenate([c["lead"][1:] != c["lead"][:-1], [True]])
    stage = np.empty(n, dtype=object)
    stage[c["lead"][last]] = c["to"][last]
    at = np.zeros(n, np.int64)
    at[c["lead"][last]] = c["at"][last]
    return stage, at


def _stage_change_table(c: dict) -> Table:
    previous = np.concatenate([[""], c["to"][:-1]]).astype(object)
    first_of_lead = np.concatenate([[True], c["lead"][1:] != c["lead"][:-1]])
    previous[first_of_lead] = ""
    count = len(c["lead"])
    return Table(
        "crm.StageChange",
        {
            "id": np.arange(1, count + 1),
            "lead_id": c["lead"] + 1,
            "from_stage": previous,
            "to_stage": c["to"],
            "at": c["at"],
            "by_id": c["by"],
            "reason": c["reason"],
            "rule_version": np.full(count, -1),
        },
    )


def lead_table(b: Builder) -> None:
    f, lead, n = b.flow, b.lead, b.n
    stage = b.final_stage
    a = b.activity
    touched = np.zeros(n, bool)
    touched[a["lead"]] = True
    connected = np.zeros(n, bool)
    connected[a["lead"][np.isin(a["outcome"], ["connected", "meeting_booked"])]] = True
    last_activity = np.zeros(n, np.int64)
    np.maximum.at(last_activity, a["lead"], a["at"])
    status = np.select(
        [
            np.isin(stage, ["sql", "opportunity", "customer"]),
            stage == "recycled",
            stage == "disqualified",
            stage == "sal",
            (stage == "mql") & connected,
            (stage == "mql") & touched,
        ],
        ["qualified", "nurture", "unqualified", "connected", "connected", "attempting"],
        "new",
    ).astype(object)
    outbound = lead["source"] == "outbound"
    owned = f["mql"] | outbound
    mql_at = np.where(f["mql"], f["mql_at"], NULL_TIME)
    assigned = np.where(outbound, lead["created"], f["mql_at"] + 300)
    b.tables["account"] = _account_table(
        b,
    )
    b.tables["lead"] = Table(
        "crm.Lead",
        {
            "id": np.arange(1, n + 1),
            "version": np.ones(n, dtype=np.int64),
            "created_at": lead["created"],
            "updated_at": np.maximum.reduce([lead["created"], b.last_change_at, last_activity]),
            "first_name": lead["first"],
            "last_name": lead["last"],
            "email": lead["email"],
            "phone": lead["phone"],
            "title": lead["title"],
            "seniority": lead["seniority"],
            "company": lead["company"],
            "account_id": lead["account"] + 1,
            "industry": lead["industry"],
            "employees": lead["employees"],
            "country": lead["country"],
            "city": lead["city"],
            "lifecycle_stage": stage,
            "status": status,
            "owner_id": np.where(owned, b.rep_ids[f["rep"]], -1),
            "source": lead["source"],
            "original_campaign_id": np.where(lead["campaign"] >= 0, lead["campaign"] + 1, -1),
            "mql_at": mql_at,
            "assigned_at": np.where(owned, assigned, NULL_TIME),
            "first_touched_at": np.where(
                touched, np.where(f["mql"], f["first_touch"], NULL_TIME), NULL_TIME
            ),
            "recycle_at": np.where(
                stage == "recycled", b.last_change_at + b.recycle_days * DAY, NULL_TIME
            ),
        },
    )


def _account_table(b: Builder) -> Table:
    acc, rng = b.account, b.streams[10]
    first_lead = np.full(acc["count"], b.as_of - DAY, dtype=np.int64)
    np.minimum.at(first_lead, b.lead["account"], b.lead["created"])
    created = first_lead - rng.integers(60, 2 * DAY, acc["count"])
    count = acc["count"]
    return Table(
        "crm.Account",
        {
            "id": np.arange(1, count + 1),
            "version": np.ones(count, dtype=np.int64),
            "created_at": created,
            "updated_at": created,
            "name": acc["name"],
            "domain": acc["domain"],
            "industry": acc["industry"],
            "employees": acc["employees"],
            "annual_revenue": b.account_revenue,
            "country": acc["country"],
            "owner_id": b.rep_ids[acc["owner_rep"]],
        },
    )
