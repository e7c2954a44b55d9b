"""The drawn company (no database): realistic, deterministic, and its hidden truth shows."""

import numpy as np
import pytest

from closedloop.campaigns.models import CampaignType
from closedloop.content.models import AssetKind
from closedloop.crm.models import LeadSource, LifecycleStage, OpportunityStage
from closedloop.definitions.contract import parse_contract
from closedloop.definitions.defaults import DEFAULT_CONTRACT
from closedloop.demo import synth, truth
from closedloop.engagement.models import TouchpointType
from closedloop.scoring import engine

AS_OF = 1_795_000_000 // 86400 * 86400
USERS = {seat.email: number + 1 for number, seat in enumerate(synth.ROSTER)}

CONTRACT = parse_contract(DEFAULT_CONTRACT)


def draw(leads=20_000, seed=11):
    return synth.generate_company(leads=leads, seed=seed, as_of=AS_OF, users=USERS)


@pytest.fixture(scope="module")
def company():
    return draw()


def col(company, table, name):
    return company.tables[table].columns[name]


def reached(company, stage):
    changes = company.tables["stage_change"].columns
    out = np.zeros(len(company.tables["lead"]), dtype=bool)
    out[changes["lead_id"][changes["to_stage"] == stage] - 1] = True
    return out


def spearman(a, b):
    return np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1]


def test_the_company_has_the_planned_shape(company):
    assert len(company.tables["campaign"]) == 60
    assert len(company.tables["asset"]) == 40
    assert 9 <= len(company.tables["touchpoint"]) / len(company.tables["lead"]) <= 11.5
    created = col(company, "lead", "created_at")
    assert created.max() < AS_OF and created.min() >= AS_OF - 730 * 86400
    assert (created > AS_OF - 365 * 86400).mean() > 0.55  # the company is growing


def test_values_come_from_the_models_enums(company):
    assert set(col(company, "campaign", "type")) <= set(CampaignType.values)
    assert set(col(company, "asset", "kind")) <= set(AssetKind.values)
    assert set(col(company, "lead", "source")) <= set(LeadSource.values)
    assert set(col(company, "lead", "lifecycle_stage")) <= set(LifecycleStage.values)
    assert set(col(company, "touchpoint", "type")) <= set(TouchpointType.values)
    assert set(col(company, "opportunity", "stage")) == set(OpportunityStage.values)


def test_firmographics_cover_the_icp_and_beyond(company):
    industries = set(col(company, "lead", "industry"))
    assert set(DEFAULT_CONTRACT["icp"][0]["value"]) < industries
    assert {"Retail", "Manufacturing", "Education", "Media", "Logistics"} <= industries
    assert {"US", "GB", "DE", "CA", "FR", "IN", "BR", "AU"} <= set(col(company, "lead", "country"))
    assert set(col(company, "lead", "seniority")) == {
        "VP",
        "C-level",
        "Director",
        "Manager",
        "Individual contributor",
    }
    emails = col(company, "lead", "email").astype(str)
    assert len(set(emails)) == len(emails)
    personal = truth.is_personal_email(emails)
    assert 0.06 < personal.mean() < 0.16
    assert 0.5 < np.char.endswith(emails[personal], "@gmail.com").mean() < 0.6
    domains = col(company, "account", "domain").astype(str)
    assert len(set(domains)) == len(domains)


def test_the_same_seed_draws_the_same_company_and_another_seed_does_not(company):
    again, other = draw(), draw(seed=12)
    for name, table in company.tables.items():
        for column, values in table.columns.items():
            assert np.array_equal(values, again.tables[name].columns[column]), (name, column)
    assert not np.array_equal(col(company, "lead", "email"), col(other, "lead", "email"))


def test_every_stage_history_chains_and_ends_at_the_leads_stage(company):
    changes = company.tables["stage_change"].columns
    lead = changes["lead_id"]
    assert (np.diff(lead) >= 0).all()
    same = lead[1:] == lead[:-1]
    assert (changes["from_stage"][1:][same] == changes["to_stage"][:-1][same]).all()
    assert (changes["at"][1:][same] >= changes["at"][:-1][same]).all()
    assert (changes["from_stage"][np.r_[True, ~same]] == "").all()
    last = np.r_[~same, True]
    assert np.array_equal(changes["to_stage"][last], col(company, "lead", "lifecycle_stage"))


def test_the_top_propensity_quintile_converts_far_more_than_the_bottom(company):
    sql = reached(company, "sql")
    low, high = np.quantile(company.propensity, [0.2, 0.8])
    assert sql[company.propensity >= high].mean() > 8 * sql[company.propensity <= low].mean()


def test_better_campaigns_really_convert_better(company):
    campaign = col(company, "lead", "original_campaign_id")
    sql = reached(company, "sql")
    sizes = np.bincount(campaign[campaign > 0], minlength=61)[1:]
    rates = np.bincount(campaign[campaign > 0], weights=sql[campaign > 0], minlength=61)[1:]
    big = sizes >= 100
    assert spearman(company.hidden.campaign_quality[big], rates[big] / sizes[big]) > 0.5


def test_deals_whose_contacts_saw_strong_content_win_more_often(company):
    touches, contacts = (
        company.tables["touchpoint"].columns,
        company.tables["opportunity_contact"].columns,
    )
    strong = np.flatnonzero(company.hidden.asset_effectiveness > 0.7) + 1
    viewers = touches["lead_id"][
        np.isin(touches["content_id"], strong) & (touches["type"] == "content_view")
    ]
    saw = np.isin(
        col(company, "opportunity", "id"),
        contacts["opportunity_id"][np.isin(contacts["lead_id"], viewers)],
    )
    stage = col(company, "opportunity", "stage")
    closed = np.isin(stage, ["won", "lost"])
    won = stage == "won"
    assert won[closed & saw].mean() > won[closed & ~saw].mean() + 0.1


def test_reps_follow_up_at_their_hidden_pace_and_speed_pays(company):
    lead = company.tables["lead"].columns
    worked = (lead["first_touched_at"] != synth.NULL_TIME) & (lead["mql_at"] != synth.NULL_TIME)
    minutes = (lead["first_touched_at"] - lead["mql_at"]) / 60
    reps = [USERS[seat.email] for seat in synth.REP_SEATS]
    medians = [np.median(minutes[worked & (lead["owner_id"] == rep)]) for rep in reps]
    assert spearman(medians, company.hidden.rep_follow_up_minutes) > 0.9
    sql = reached(company, "sql")
    assert sql[worked & (minutes < 30)].mean() > 1.5 * sql[worked & (minutes > 3 * 1440)].mean()


def test_opportunities_belong_to_their_contacts_accounts(company):
    contacts = company.tables["opportunity_contact"].columns
    opp_account = col(company, "opportunity", "account_id")[contacts["opportunity_id"] - 1]
    lead_account = col(company, "lead", "account_id")[contacts["lead_id"] - 1]
    assert np.array_equal(opp_account, lead_account)
    stage = col(company, "opportunity", "stage")
    assert (col(company, "opportunity", "lost_reason")[stage == "lost"] != "").all()
    assert set(np.unique(contacts["opportunity_id"])) == set(col(company, "opportunity", "id"))


def test_no_instant_gets_a_spike_of_leads_and_the_newest_week_looks_like_the_ones_before(company):
    created = col(company, "lead", "created_at")
    assert np.unique(created, return_counts=True)[1].max() <= 3
    weeks = (AS_OF - created) // (7 * 86400)
    per_week = np.bincount(weeks, minlength=6)
    assert per_week[0] <= 1.5 * np.median(per_week[1:5])


def test_every_mql_met_the_contracts_rule_when_it_became_one(company):
    """Checked with the scoring engine itself (fit grade, decayed and capped engagement at the
    moment of the MQL change), not with the generator's own running sums."""
    lead, touches = company.tables["lead"].columns, company.tables["touchpoint"].columns
    changes = company.tables["stage_change"].columns
    to_mql = changes["to_stage"] == "mql"
    ids, at = changes["lead_id"][to_mql], changes["at"][to_mql]
    assert len(ids) > 1000
    fields = ("industry", "employees", "seniority", "country", "email")
    points, _ = engine.fit_points({f: lead[f][ids - 1] for f in fields}, CONTRACT.icp)
    assert (engine.grade_ranks_from_points(points) >= engine.grade_rank(["B-"])[0]).all()
    position = np.searchsorted(ids, touches["lead_id"], side="left")
    position = np.minimum(position, len(ids) - 1)
    mine = ids[position] == touches["lead_id"]
    before = mine & (touches["occurred_at"] <= at[position])
    engagement = engine.engagement_scores(
        position[before],
        touches["type"][before],
        (at[position][before] - touches["occurred_at"][before]) / 86400,
        len(ids),
        CONTRACT.engagement,
    )
    assert engagement.min() >= 40


def test_recycled_leads_come_back_over_the_coming_months_and_past_dates_already_returned(company):
    lead = company.tables["lead"].columns
    recycled = lead["lifecycle_stage"] == "recycled"
    dates = lead["recycle_at"][recycled]
    assert recycled.sum() > 100 and (dates > AS_OF).all()
    months = np.unique((dates - AS_OF) // (30 * 86400))
    assert len(months) >= 3  # spread over the coming months, not one day
    changes = company.tables["stage_change"].columns
    back = changes["reason"] == "Re-entry date reached: back to Lead"
    assert back.sum() > 100
    assert set(changes["from_stage"][back]) == {"recycled"}
    assert (changes["to_stage"][back] == "lead").all() and (changes["at"][back] <= AS_OF).all()


def test_open_deals_sit_in_every_open_stage_with_their_days_in_stage_from_the_history(company):
    deals = company.tables["opportunity"].columns
    stage, entered = deals["stage"], deals["stage_entered_at"]
    open_ = ~np.isin(stage, ["won", "lost"])
    counts = {s: int((stage == s).sum()) for s in ("discovery", "proposal", "negotiation")}
    assert min(counts.values()) >= 0.1 * open_.sum(), counts
    days = (AS_OF - entered[open_]) / 86400
    assert days.min() >= 0 and 3 <= np.median(days) <= 60
    assert (deals["close_date"][open_] > AS_OF).all() and (deals["next_step"][open_] != "").all()
    history = company.tables["opportunity_stage_change"].columns
    order = np.lexsort((history["at"], history["opportunity_id"]))
    last = {}
    for deal, before, after, at in zip(
        history["opportunity_id"][order],
        history["from_stage"][order],
        history["to_stage"][order],
        history["at"][order],
        strict=True,
    ):
        assert before == last.get(deal, ("", 0))[0] and at >= last.get(deal, ("", 0))[1]
        last[deal] = (after, at)
    assert all(last[d][0] == s for d, s in zip(deals["id"], stage, strict=True))
    assert all(last[d][1] == e for d, e in zip(deals["id"], entered, strict=True))


def test_closed_deals_carry_a_reason_and_a_note_and_amounts_grow_with_the_company(company):
    deals = company.tables["opportunity"].columns
    stage = deals["stage"]
    won, lost = stage == "won", stage == "lost"
    assert set(deals["won_reason"][won]) <= {"product_fit", "value", "relationship", "timing"}
    assert (deals["lost_reason"][lost] != "").all() and (deals["won_reason"][lost] == "").all()
    assert (deals["close_note"][won | lost] != "").all()
    assert (deals["close_note"][~(won | lost)] == "").all()
    employees = col(company, "account", "employees")[deals["account_id"] - 1]
    assert spearman(employees, deals["amount"]) > 0.3
    assert (deals["amount"] % 500 == 0).all() and 2_000 <= np.median(deals["amount"]) <= 40_000


def test_every_sales_qualified_lead_was_qualified_under_the_contracts_sql_rule(company):
    import json

    rows = company.tables["qualification"].columns
    assert set(rows["lead_id"]) == set(np.flatnonzero(reached(company, "sql")) + 1)
    rule = DEFAULT_CONTRACT["sql_rule"]
    for answers, confirmed in zip(rows["answers"][:200], rows["confirmed"][:200], strict=True):
        answers = json.loads(answers)
        assert set(answers) == set(rule["requires"])
        assert sum(a["confirmed"] for a in answers.values()) == confirmed
        assert confirmed >= rule["min_confirmed"]
        assert all(a["evidence"] for a in answers.values() if a["confirmed"])
