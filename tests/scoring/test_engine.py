"""The pure scoring engine: grades, engagement decay and caps, the MQL rule, the model, reasons.

No Django here: these run without a database.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closedloop.definitions.contract import (
    ContractError,
    MqlRule,
    criteria,
    engagement_rules,
    parse_contract,
)
from closedloop.definitions.defaults import DEFAULT_CONTRACT
from closedloop.scoring import engine

CONTRACT = parse_contract(DEFAULT_CONTRACT)
ENGAGEMENT = CONTRACT.engagement
TYPES = list(ENGAGEMENT.points)


def criterion(**fields):
    return criteria([{"step": 1, **fields}])[0]


def test_importing_the_engine_does_not_import_django():
    code = "import sys, closedloop.scoring.engine; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Grades --------------------------------------------------------------------------------------


def test_a_lead_matching_nothing_starts_at_d():
    assert engine.grades_from_points(np.array([0.0])).tolist() == ["D"]


def test_three_points_move_the_grade_one_whole_letter_and_one_point_a_third():
    grades = engine.grades_from_points(np.array([3, 1, -1, 6, 8]))
    assert grades.tolist() == ["C", "D+", "D-", "B", "A-"]


def test_grades_are_clipped_at_a_plus_and_f():
    assert engine.grades_from_points(np.array([40, -40])).tolist() == ["A+", "F"]


def test_grade_rank_orders_worst_to_best_and_marks_blanks():
    assert engine.grade_rank(["F", "D", "B-", "A+", ""]).tolist() == [0, 2, 7, 12, -1]


def test_fit_points_sum_the_steps_of_the_criteria_a_lead_meets():
    columns = {
        "industry": np.array(["Software", "Retail", None], dtype=object),
        "employees": np.array([1500.0, 50.0, np.nan]),
        "seniority": np.array(["VP", "", "Director"], dtype=object),
        "country": np.array(["US", "FR", "gb"], dtype=object),
        "email": np.array(["a@gmail.com", "b@corp.example", ""], dtype=object),
    }
    points, reasons = engine.fit_points(columns, CONTRACT.icp, explain=True)
    # Software +3, 200+ +3, 1000+ +1, VP +2, US +1, gmail -3 = 7; nothing; Director +2, GB +1.
    assert points.tolist() == [7, 0, 3]
    assert reasons[1] == []
    assert ("Personal email address", -3.0) in reasons[0]
    assert reasons[2][0] == ("Decision-making seniority", 2.0)


def test_missing_numbers_never_meet_a_numeric_criterion():
    lte_100 = criterion(field="employees", op="lte", value=100)
    assert engine.criterion_matches(np.array([np.nan, 50.0]), lte_100).tolist() == [False, True]


def test_the_one_lead_path_agrees_with_the_array_path():
    icp = CONTRACT.icp
    values = {
        "industry": ["healthcare"] * 100,
        "employees": [250] * 100,
        "seniority": ["C-level"] * 100,
        "country": ["DE"] * 100,
        "email": ["x@Gmail.com"] * 100,
    }
    many = engine.fit_matches({k: np.array(v, dtype=object) for k, v in values.items()}, icp)
    one = engine.fit_matches({k: v[:1] for k, v in values.items()}, icp)
    assert (many[:1] == one).all()


def test_numbers_written_as_text_read_the_same_for_one_lead_and_for_many():
    gte_1000 = criterion(field="employees", op="gte", value=1000)
    texts = [" 1,200 ", "800", None, "abc", "1000"]
    expected = [True, False, False, False, True]

    one_by_one = [engine.criterion_matches([t], gte_1000)[0] for t in texts]
    many = engine.criterion_matches(pl.Series(texts * 20, dtype=pl.Utf8), gte_1000)

    assert one_by_one == expected
    assert many.tolist() == expected * 20


def test_an_unknown_criterion_op_is_refused_by_name():
    with pytest.raises(ValueError, match="'near'"):
        criterion(field="industry", op="near", value="y")
    body = {**DEFAULT_CONTRACT, "icp": [{"field": "industry", "op": "near", "value": "y"}]}
    with pytest.raises(ContractError, match="'near'"):
        parse_contract(body)


# Engagement ----------------------------------------------------------------------------------


def test_a_touch_loses_half_its_points_per_half_life():
    config = engagement_rules({"points": {"form": 16}, "caps": {}, "half_life_days": 30})
    scores = engine.engagement_scores(
        np.array([0, 1, 2]), np.array(["form"] * 3), np.array([0, 30, 60]), 3, config
    )
    assert scores.tolist() == pytest.approx([16, 8, 4])


def test_a_burst_two_years_ago_does_not_make_a_lead_hot_today():
    burst = engine.engagement_scores(
        np.zeros(30, dtype=int), np.array(["webinar"] * 30), np.full(30, 730.0), 1, ENGAGEMENT
    )
    assert burst[0] < 0.01


def test_caps_limit_a_group_after_decay():
    config = engagement_rules(
        {
            "points": {"page_view": 1},
            "caps": {"web": {"types": ["page_view"], "max": 20}},
            "half_life_days": 30,
        }
    )
    scores = engine.engagement_scores(
        np.zeros(500, dtype=int), np.array(["page_view"] * 500), np.zeros(500), 1, config
    )
    assert scores[0] == 20


def test_leads_without_touches_score_zero():
    scores = engine.engagement_scores(
        np.array([2]), np.array(["form"]), np.array([0]), 4, ENGAGEMENT
    )
    assert scores.tolist() == [0, 0, 15, 0]


touches = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(TYPES), st.floats(0, 2000)),
    min_size=1,
    max_size=60,
)


def _score(rows, n=5, config=ENGAGEMENT):
    lead, kind, age = zip(*rows, strict=True)
    return engine.engagement_scores(np.array(lead), np.array(kind), np.array(age), n, config)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TYPES), st.floats(0, 3000), st.floats(0, 3000))
def test_an_older_touch_never_counts_more_than_a_newer_one(kind, age_a, age_b):
    older, newer = max(age_a, age_b), min(age_a, age_b)
    assert _score([(0, kind, older)], 1)[0] <= _score([(0, kind, newer)], 1)[0]


@settings(max_examples=150, deadline=None)
@given(touches, st.floats(0, 1000))
def test_more_age_never_increases_any_score(rows, extra_days):
    older = [(lead, kind, age + extra_days) for lead, kind, age in rows]
    assert (_score(older) <= _score(rows) + 1e-9).all()


@settings(max_examples=150, deadline=None)
@given(touches)
def test_caps_hold_for_every_group(rows):
    lead, kind, age = zip(*rows, strict=True)
    by_group, groups = engine.engagement_by_group(
        np.array(lead), np.array(kind), np.array(age), 5, ENGAGEMENT
    )
    for group, spec in ENGAGEMENT.caps.items():
        assert (by_group[:, groups.index(group)] <= spec.max + 1e-9).all()
    assert (by_group >= 0).all()


# The MQL rule ---------------------------------------------------------------------------------


def test_the_mql_rule_needs_both_the_grade_and_the_engagement():
    grades = np.array(["A", "B-", "C+", "A"])
    engagement = np.array([50, 40, 90, 39.9])
    met = engine.meets_mql_rule(grades, engagement, MqlRule(min_engagement=40, min_fit_grade="B-"))
    assert met.tolist() == [True, True, False, False]


# The predictive model ------------------------------------------------------------------------


def messy_leads(n=3000, seed=1) -> tuple[pl.DataFrame, np.ndarray]:
    """Leads whose conversion depends on visits, source and a yes/no flag, with messy text."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, n)
    source = rng.choice(["Google", "Referral", "Olark Chat", "Select"], n)
    flag = rng.choice(["Yes", "No"], n)
    logit = (
        -2 + 0.5 * visits + np.where(source == "Referral", 1.5, 0) + np.where(flag == "Yes", -1, 0)
    )
    converted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    visits_text = np.where(rng.random(n) < 0.05, "", visits.astype(str))  # missing as ""
    frame = pl.DataFrame(
        {
            "Visits": visits_text,
            "Source": source,
            "Do Not Email": flag,
            "Prospect": [f"id-{i}" for i in range(n)],
            "Constant": ["No"] * n,
        }
    )
    return frame, converted


def test_the_encoder_reads_numbers_in_text_yes_no_and_placeholders():
    frame, _ = messy_leads(500)
    encoder = engine.FeatureEncoder().fit(frame)
    assert encoder.kinds == {"Visits": "number", "Source": "category", "Do Not Email": "yes_no"}
    assert "Select" not in encoder.categories["Source"]  # a placeholder, so missing
    matrix = encoder.transform(
        pl.DataFrame(
            {
                "Visits": ["7", "", "x"],
                "Source": ["Select", "Google", "Bing"],
                "Do Not Email": ["yes", "No", None],
            }
        )
    )
    assert matrix[0, 0] == 7 and np.isnan(matrix[1, 0]) and np.isnan(matrix[2, 0])
    assert np.isnan(matrix[0, 1]) and matrix[2, 1] == len(encoder.categories["Source"])
    assert matrix[:, 2].tolist()[:2] == [1.0, 0.0] and np.isnan(matrix[2, 2])


def test_the_one_lead_encoding_agrees_with_the_frame_encoding():
    frame, _ = messy_leads(500)
    encoder = engine.FeatureEncoder().fit(frame)
    head = frame.head(30)
    rows = {name: head[name].to_list() for name in head.columns}
    np.testing.assert_array_equal(encoder.transform(head), encoder.transform(rows))


def test_the_model_learns_the_signal_and_its_tables_reproduce_the_trees():
    frame, converted = messy_leads()
    model = engine.ConversionModel().fit(frame, converted)
    matrix = model.encoder.transform(frame)
    np.testing.assert_allclose(
        model.predict_matrix(matrix), model.classifier.predict_proba(matrix)[:, 1], atol=1e-9
    )
    result = engine.cross_validate(frame, converted, folds=3)
    assert result["auc"] > 0.75
    assert {"auc", "brier", "rows", "folds"} <= set(result)


def test_reasons_name_what_raised_and_what_lowered_the_score():
    frame, converted = messy_leads()
    model = engine.ConversionModel(labels={"Source": "Lead source"}).fit(frame, converted)
    lead = pl.DataFrame({"Visits": ["9"], "Source": ["Referral"], "Do Not Email": ["Yes"]})
    matrix = model.encoder.transform(lead)
    probability = model.predict_matrix(matrix)
    ids, effects = engine.top_factors(*model.factors(matrix, probability))
    reasons = json.loads(engine.reasons_json(ids, effects, model.factor_texts())[0])
    raised = [r["text"] for r in reasons if r["effect"] > 0]
    lowered = [r["text"] for r in reasons if r["effect"] < 0]
    assert "Lead source: Referral" in raised
    assert "Do Not Email: yes" in lowered
    assert any(text.startswith("Visits: more than") for text in raised)


def test_reasons_json_is_valid_json_with_text_and_effect_for_many_leads():
    ids = np.array([[0, 1, -1]] * 100)
    effects = np.array([[2.04, -1.0, 0.0]] * 100)
    out = engine.reasons_json(ids, effects, ['said "hi"', "b"])
    assert json.loads(out[99]) == [
        {"text": 'said "hi"', "effect": 2.0},
        {"text": "b", "effect": -1.0},
    ]
    assert out[:1] == engine.reasons_json(ids[:1], effects[:1], ['said "hi"', "b"])


def test_top_factors_keeps_the_strongest_on_each_side_and_drops_small_ones():
    effects = np.array([[5.0, -3.0, 0.1, 2.0, -0.2]])
    ids, chosen = engine.top_factors(np.arange(5)[None, :], effects, per_side=2, min_effect=0.5)
    assert ids.tolist() == [[0, 3, 1, -1]]
    assert chosen.tolist() == [[5.0, 2.0, -3.0, 0.0]]


def test_the_naive_bayes_reference_ranks_better_than_chance():
    frame, converted = messy_leads()
    result = engine.cross_validate(
        frame, converted, folds=3, make_scorer=engine.FrequencyNaiveBayes
    )
    assert 0.6 < result["auc"]


def test_evaluating_names_missing_columns_and_a_one_sided_target():
    frame, converted = messy_leads(100)
    frame = frame.with_columns(Converted=pl.Series(converted))
    with pytest.raises(ValueError, match="Nope"):
        engine.evaluate_csv_frame(frame, target="Nope")
    with pytest.raises(ValueError, match="both"):
        engine.evaluate_csv_frame(frame.with_columns(Converted=pl.lit(0)), target="Converted")


def test_recalibration_rescales_the_tables_and_keeps_the_ranking():
    frame, converted = messy_leads()
    model = engine.ConversionModel().fit(frame, converted)
    matrix = model.encoder.transform(frame)
    before = model.predict_matrix(matrix)
    out_of_fold: list = []
    engine.cross_validate(frame, converted, folds=3, predictions=out_of_fold)
    slope, _ = model.recalibrate(out_of_fold[0], converted)
    after = model.predict_matrix(matrix)
    assert slope > 0
    assert (np.argsort(before, kind="stable") == np.argsort(after, kind="stable")).mean() > 0.99
    # The predicted share of conversions matches the observed share after recalibration.
    assert after.mean() == pytest.approx(converted.mean(), abs=0.03)


# Fast paths: each must give exactly what the simple path gives ------------------------------

# Inputs longer than engine.SMALL reach the fast paths: such examples are large by design and
# slow to make on a busy machine.
BIG_EXAMPLES = [HealthCheck.too_slow, HealthCheck.large_base_example, HealthCheck.data_too_large]
MESSY_TEXT = st.one_of(
    st.none(),
    st.sampled_from(["Software", " software ", "SOFTWARE", "Select", "N/A", "", "VP", "1,200"]),
    st.text(max_size=6),
)


@settings(max_examples=60, deadline=None, suppress_health_check=BIG_EXAMPLES)
@given(st.lists(MESSY_TEXT, min_size=engine.SMALL + 1, max_size=300))
def test_criteria_computed_once_per_distinct_value_match_the_array_rules(values):
    icp = CONTRACT.icp + (
        criterion(field="industry", op="eq", value="software"),
        criterion(field="industry", op="contains", value="o"),
        criterion(field="industry", op="gte", value=1000),
    )
    column = pl.Series(values, dtype=pl.Utf8)
    fast = engine.fit_matches({"industry": column}, icp)
    for j, one in enumerate(icp):
        if one.field != "industry":
            assert not fast[:, j].any()
            continue
        # criterion_matches on the whole column: every row's string work done row by row.
        assert fast[:, j].tolist() == engine.criterion_matches(column, one).tolist()


@settings(max_examples=40, deadline=None, suppress_health_check=BIG_EXAMPLES)
@given(
    st.lists(
        st.sampled_from(["Google", "Referral", " Bing", "Select", "", None, "x"]),
        min_size=engine.SMALL + 1,
        max_size=400,
    )
)
def test_encoding_once_per_distinct_value_matches_the_one_lead_encoding(sources):
    frame, _ = messy_leads(500)
    encoder = engine.FeatureEncoder().fit(frame)
    n = len(sources)
    leads = pl.DataFrame(
        {
            "Visits": (["7", "", "1,5", "x", None] * n)[:n],
            "Source": sources,
            "Do Not Email": (["yes", "No", None, "maybe"] * n)[:n],
        },
        schema={"Visits": pl.Utf8, "Source": pl.Utf8, "Do Not Email": pl.Utf8},
    )
    one_by_one = encoder.transform({name: leads[name].to_list() for name in leads.columns})
    np.testing.assert_array_equal(encoder.transform(leads), one_by_one)


def test_per_distinct_gathers_each_rows_result_back_including_missing_values():
    series = pl.Series(["b", None, "a", "b", "a", None] * 50, dtype=pl.Utf8)
    out = engine.per_distinct(series, lambda values: values.fill_null("?").str.to_uppercase())
    assert out.tolist() == ["B", "?", "A", "B", "A", "?"] * 50
    distinct = pl.Series([f"id-{i}" for i in range(300)])  # mostly distinct: computed directly
    assert engine.per_distinct(distinct, lambda v: v.str.len_chars()).tolist() == [
        len(f"id-{i}") for i in range(300)
    ]


reason_cells = st.tuples(
    st.integers(-1, 5),
    st.one_of(st.floats(-100, 100), st.sampled_from([0.0, -0.0, -0.04, 0.05, -0.05, 0.25, 12.35])),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(reason_cells, min_size=6, max_size=6), min_size=1, max_size=120))
def test_reasons_formatted_once_per_distinct_item_match_formatting_every_lead(rows):
    ids = np.array([[i for i, _ in row] for row in rows], dtype=np.int64)
    effects = np.array([[e for _, e in row] for row in rows])
    texts = ['said "hi"', "Industry: Software", "é", "b", "", "Country: US"]
    fast = engine.reasons_series(ids, effects, texts).to_list()
    assert fast == engine._reasons_by_columns(ids, effects, texts).to_list()


def test_reasons_in_many_blocks_match_formatting_every_lead(monkeypatch):
    rng = np.random.default_rng(3)
    ids = rng.integers(-1, 40, size=(500, 6))
    effects = np.round(rng.normal(0, 20, size=(500, 6)), rng.integers(0, 4))
    effects[::7, 2] = -0.0
    texts = [f"factor {i}" for i in range(40)]
    monkeypatch.setattr(engine.common, "EXPLAIN_BLOCK", 7)
    fast = engine.reasons_series(ids, effects, texts).to_list()
    assert fast == engine._reasons_by_columns(ids, effects, texts).to_list()


def test_reasons_with_effects_that_are_not_numbers_take_the_simple_path():
    ids = np.array([[0, 1]] * 70)
    effects = np.array([[np.nan, 2.0]] * 70)
    fast = engine.reasons_series(ids, effects, ["a", "b"]).to_list()
    assert fast == engine._reasons_by_columns(ids, effects, ["a", "b"]).to_list()


def test_prediction_with_reasons_in_blocks_equals_the_whole_matrix_steps(monkeypatch):
    frame, converted = messy_leads()
    model = engine.ConversionModel().fit(frame, converted)
    matrix = model.encoder.transform(frame)
    probability = model.predict_matrix(matrix)
    expected_ids, expected_effects = engine.top_factors(*model.factors(matrix, probability))
    monkeypatch.setattr(engine.common, "EXPLAIN_BLOCK", 257)  # many blocks, on threads
    got_probability, ids, effects = model.predict_with_reasons(matrix)
    np.testing.assert_array_equal(got_probability, probability)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(effects, expected_effects)


@settings(deadline=None)
@given(st.lists(st.floats(-60, 60), max_size=50))
def test_grade_ranks_from_points_are_the_ranks_of_the_grades(points):
    points = np.array(points, dtype=float)
    ranks = engine.grade_ranks_from_points(points)
    assert ranks.tolist() == engine.grade_rank(engine.grades_from_points(points)).tolist()
