"""The ground truth's rules, on hand-made leads."""

import numpy as np

from closedloop.demo import truth

DAY = 86400


def fit(**overrides):
    lead = {
        "industry": "Software",
        "employees": 500,
        "seniority": "VP",
        "country": "US",
        "email": "ann@acme.com",
    } | overrides
    return truth.fit_logit(**{k: [v] for k, v in lead.items()})[0]


def engagement(types, days_after_creation):
    return truth.engagement_logit(
        n_leads=1,
        touch_lead=[0] * len(types),
        touch_weight=truth.touch_weight(types),
        touch_at=[d * DAY for d in days_after_creation],
        lead_created_at=[0],
    )[0]


def test_icp_industries_fit_better_than_education_and_nonprofits():
    assert fit(industry="Software") > fit(industry="Education") > fit(industry="Nonprofit")


def test_a_personal_email_address_lowers_fit():
    assert fit(email="ann.lee@gmail.com") < fit() - 0.9


def test_small_companies_and_individual_contributors_fit_worse():
    assert fit(employees=20) < fit(employees=300) < fit(employees=2000)
    assert fit(seniority="Individual contributor") < fit(seniority="Manager") < fit()


def test_unknown_values_count_nothing():
    assert fit(industry="", country="") == fit(industry="Unknown", country="ZZ")


def test_more_and_stronger_touches_mean_more_engagement():
    assert engagement(["page_view"] * 3, [50] * 3) < engagement(["page_view"] * 6, [50] * 6)
    assert engagement(["page_view"], [50]) < engagement(["webinar"], [50])


def test_recent_touches_count_more_than_old_ones_and_sales_touches_count_nothing():
    assert engagement(["form"], [5]) < engagement(["form"], [55])
    assert engagement(["sales_call", "meeting"], [50, 50]) == 0
    assert engagement(["form"], [61]) == 0  # after the reference time


def test_effective_content_counts_more_than_ineffective_content():
    weights = truth.touch_weight(["content_view", "content_view", "page_view"], [1.0, -0.4, 0.9])
    assert weights[0] > truth.TOUCH_WEIGHT["content_view"] > weights[1]
    assert weights[2] == truth.TOUCH_WEIGHT["page_view"]


def test_propensity_rises_with_fit_engagement_and_campaign_quality():
    base = truth.true_propensity(
        fit=np.array([0.0]), engagement=np.array([1.0]), campaign_quality=[1.0]
    )
    assert (
        truth.true_propensity(
            fit=np.array([1.0]), engagement=np.array([1.0]), campaign_quality=[1.0]
        )
        > base
    )
    assert (
        truth.true_propensity(
            fit=np.array([0.0]), engagement=np.array([2.0]), campaign_quality=[1.0]
        )
        > base
    )
    assert (
        truth.true_propensity(
            fit=np.array([0.0]), engagement=np.array([1.0]), campaign_quality=[2.0]
        )
        > base
    )


def test_slow_follow_up_lowers_the_chance_of_sql():
    minutes = np.array([5, 60, 600, 2000, 10000])
    multiplier = truth.speed_multiplier(minutes)
    assert list(multiplier) == sorted(multiplier, reverse=True)
    assert multiplier[0] > 1 > multiplier[-1]


def test_hidden_parameters_depend_on_the_seed_alone():
    a = truth.hidden_parameters(7, campaigns=60, assets=40, reps=16)
    b = truth.hidden_parameters(7, campaigns=60, assets=40, reps=16)
    c = truth.hidden_parameters(8, campaigns=60, assets=40, reps=16)
    assert np.array_equal(a.campaign_quality, b.campaign_quality)
    assert not np.array_equal(a.campaign_quality, c.campaign_quality)
    assert (a.campaign_quality > 0).all()
    assert a.asset_effectiveness.max() > 0.7  # a few assets really help
    assert (np.abs(a.asset_effectiveness) < 0.2).mean() > 0.4  # most do nothing


def test_reps_come_in_fast_steady_and_slow_habits():
    minutes = truth.hidden_parameters(7, campaigns=60, assets=40, reps=16).rep_follow_up_minutes
    assert (minutes < 30).sum() >= 5 and (minutes > 400).sum() >= 5
