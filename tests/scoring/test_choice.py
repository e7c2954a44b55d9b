"""Automatic model choice, the candidates' reasons, and screening an export's columns.

Pure: no database.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.model_selection import StratifiedKFold

from closedloop.scoring import engine
from closedloop.scoring.engine.common import _sigmoid

CANDIDATE_CLASSES = [
    engine.ConversionModel,
    engine.BoostedModel,
    engine.LogisticModel,
    engine.NaiveBayesModel,
]


def leads(n=800, seed=1) -> tuple[pl.DataFrame, np.ndarray]:
    """Leads converting by industry, visits and an industry × seniority interaction."""
    rng = np.random.default_rng(seed)
    industry = rng.choice(["Software", "Retail", "Bank", "Select"], n)
    seniority = rng.choice(["VP", "Manager", "Staff"], n)
    visits = rng.poisson(3, n).astype(float)
    size = rng.lognormal(4, 1.2, n).round()
    logit = (
        -1.5
        + 0.8 * (industry == "Software")
        + 0.25 * visits
        - 0.5 * (industry == "Retail")
        + 1.2 * ((industry == "Bank") & (seniority == "VP"))
    )
    outcome = (rng.random(n) < _sigmoid(logit)).astype(int)
    frame = pl.DataFrame(
        {
            "industry": industry,
            "seniority": seniority,
            "visits": visits.astype(int).astype(str),
            "employees": size,
            "newsletter": rng.choice(["Yes", "No"], n),
        }
    )
    return frame, outcome


@pytest.mark.parametrize("make", CANDIDATE_CLASSES, ids=lambda m: m.name)
def test_every_candidate_explains_each_lead_with_contributions_that_add_up_to_its_log_odds(make):
    frame, outcome = leads()
    model = make(labels={"industry": "Industry"}, random_state=0).fit(frame[:600], outcome[:600])
    model.recalibrate(np.clip(model.predict(frame[:600]), 0.01, 0.99), outcome[:600])
    matrix = model.encoder.transform(frame[600:])
    base, parts = model.contributions(matrix)
    probability = model.predict(frame[600:])
    np.testing.assert_allclose(_sigmoid(base + parts.sum(axis=1)), probability, atol=1e-9)
    explained, ids, effects = model.predict_with_reasons(matrix)
    np.testing.assert_allclose(explained, probability, atol=1e-9)
    texts = model.factor_texts()
    said = {texts[i] for i in ids.ravel() if i >= 0}
    assert said and all(": " in text for text in said)
    # The strongest raising factor of a lead is one whose contribution raises its score.
    lead = int(np.argmax(effects[:, 0]))
    assert effects[lead, 0] > 0 and parts[lead].max() > 0


def test_the_tree_model_reasons_use_the_words_reps_already_read():
    frame, outcome = leads()
    boosted = engine.BoostedModel(labels={"industry": "Industry"}).fit(frame, outcome)
    additive = engine.ConversionModel(labels={"industry": "Industry"}).fit(frame, outcome)
    assert "Industry: Software" in boosted.factor_texts()
    assert "Industry: not given" in boosted.factor_texts()
    shared = set(boosted.factor_texts()) & set(additive.factor_texts())
    assert {"Industry: Software", "Industry: Retail", "visits: not given"} <= shared


def test_the_tie_break_prefers_the_more_interpretable_candidate_within_the_margin():
    order = list(engine.CANDIDATES)
    margin = engine.TIE_MARGIN
    assert engine.choose({"additive": 0.80, "boosted": 0.80 + margin / 2}, order) == "additive"
    assert engine.choose({"additive": 0.80, "boosted": 0.80 + 2 * margin}, order) == "boosted"
    assert engine.choose({"logistic": 0.7, "boosted": 0.7}, ["logistic", "boosted"]) == "logistic"


def test_the_choice_is_the_same_for_the_same_seed():
    frame, outcome = leads(600)
    first = engine.AutoModel(random_state=0, folds=3).fit(frame, outcome)
    second = engine.AutoModel(random_state=0, folds=3).fit(frame, outcome)
    assert first.choice == second.choice
    np.testing.assert_array_equal(first.predict(frame), second.predict(frame))
    assert set(first.choice["inner_auc"]) == set(engine.CANDIDATES)
    assert sum(c["chosen"] for c in first.choice["candidates"]) == 1


SEEN_WHILE_CHOOSING: list[np.ndarray] = []


def one_column(column: str):
    """A candidate that learns from one column only and records the rows it is shown."""

    class OneColumn(engine.LogisticModel):
        name = f"only {column}"
        title = name

        def fit(self, frame, outcome):
            SEEN_WHILE_CHOOSING.append(frame["row"].to_numpy())
            return super().fit(frame.select(column), outcome)

        def predict(self, frame):
            SEEN_WHILE_CHOOSING.append(frame["row"].to_numpy())
            return super().predict(frame.select(column))

    return OneColumn


def test_the_inner_cross_validation_never_sees_the_outer_test_fold():
    rng = np.random.default_rng(5)
    n = 500
    outcome = (rng.random(n) < 0.3).astype(int)
    honest = np.where(rng.random(n) < 0.7, outcome, 1 - outcome)  # right 70 % of the time
    outer = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in outer.split(np.zeros(n), outcome):
        # Planted leak: the outcome itself on this fold's test rows, noise on the rest. A
        # choice that peeked at the test fold would find "leak" perfect and pick it.
        leak = rng.integers(0, 2, n)
        leak[test] = outcome[test]
        frame = pl.DataFrame(
            {"row": np.arange(n), "honest": honest.astype(str), "leak": leak.astype(str)}
        )
        candidates = {"leak": one_column("leak"), "honest": one_column("honest")}
        SEEN_WHILE_CHOOSING.clear()
        auto = engine.AutoModel(candidates=candidates, folds=4).fit(frame[train], outcome[train])
        seen = np.concatenate(SEEN_WHILE_CHOOSING)
        assert not np.isin(seen, test).any()
        assert auto.choice["chosen"] == "honest"
        assert auto.choice["inner_auc"]["leak"] < 0.6


def test_screening_names_constant_identifier_and_date_columns_with_reasons():
    n = 60
    frame = pl.DataFrame(
        {
            "ID": [str(1000 + 7 * i) for i in range(n)],
            "email": [f"p{i}@x.io" for i in range(n)],
            "Z_Cost": ["3"] * n,
            "signed_up": [f"2013-0{1 + i % 9}-1{i % 10}" for i in range(n)],
            "Income": [str(50_000 + 13 * i) for i in range(n)],
            "segment": ["a", "b", "c"] * (n // 3),
        }
    )
    dropped = {c.name: c for c in engine.screen_columns(frame)}
    assert set(dropped) == {"ID", "email", "Z_Cost", "signed_up"}
    assert dropped["Z_Cost"].kind == "constant" and "'3'" in dropped["Z_Cost"].why
    assert dropped["ID"].kind == "identifier"
    assert "60 distinct values in 60 rows" in dropped["ID"].why
    assert dropped["signed_up"].kind == "date"


def test_an_export_with_a_bom_semicolons_and_a_quoted_newline_reads_as_its_columns():
    data = b'\xef\xbb\xbfID;Note;Income\r\n1;"two\nlines; here";58.138\r\n2;plain;46\r\n'
    fmt, frame = engine.read_csv_export(data)
    assert (fmt.delimiter, fmt.bom) == (";", True)
    assert frame.columns == ["ID", "Note", "Income"]
    assert frame["Note"].to_list() == ["two\nlines; here", "plain"]


def test_the_tree_model_is_passed_over_when_too_many_leads_would_need_its_explanations():
    frame, outcome = leads(400)
    many = engine.choice.MAX_LEADS_FOR_TREES + 1
    auto = engine.AutoModel(folds=3, leads_to_score=many).fit(frame, outcome)
    assert "boosted" not in auto.choice["inner_auc"]
    assert "would take minutes" in auto.choice["passed_over"]["boosted"]
    assert auto.choice["chosen"] != "boosted"
