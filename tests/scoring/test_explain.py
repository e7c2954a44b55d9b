"""The score reads as a sum: baseline + its reasons + other factors = the score shown, on the
lead page and the inbox card alike; score and probability are not shown as two numbers."""

import pytest
from django.utils import timezone

from closedloop.crm.models import LifecycleStage
from closedloop.scoring.explain import RULES_BASELINE, breakdown, quality_in_words
from closedloop.scoring.models import ScoringModel
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

REASONS = [
    {"text": "Industry we win in", "effect": 12.5},
    {"text": "Personal email address", "effect": -6},
    "not a reason",
]


def total(b) -> float:
    return b.baseline.points + sum(p.points for p in b.reasons) + b.other.points


def test_a_rules_score_is_the_d_grade_baseline_plus_its_reasons_plus_the_rest():
    lead = make_lead(score=61, score_reasons=REASONS, scored_at=timezone.now())
    b = breakdown(lead)
    assert b.baseline.points == pytest.approx(RULES_BASELINE) and not b.by_model
    assert [p.text for p in b.reasons] == ["Industry we win in", "Personal email address"]
    assert total(b) == pytest.approx(61)


def test_a_model_score_starts_from_the_models_base_rate():
    ScoringModel.objects.create(
        algorithm="test",
        trained_at=timezone.now(),
        rows=200,
        positives=30,
        blob=b"",
        is_active=True,
    )
    lead = make_lead(
        score=37, conversion_probability=0.37, score_reasons=REASONS, scored_at=timezone.now()
    )
    b = breakdown(lead)
    assert b.by_model and b.baseline.points == pytest.approx(15.0)
    assert total(b) == pytest.approx(37)


def test_the_lead_page_and_the_inbox_card_show_the_same_sum(client, alice):
    lead = make_lead(
        owner=alice,
        stage=LifecycleStage.MQL,
        score=61,
        score_reasons=REASONS,
        scored_at=timezone.now(),
    )
    client.force_login(alice)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    card = client.get(f"/inbox/leads/{lead.pk}/").content.decode()
    for html in (page, card):
        part = html[html.index('class="score-breakdown"') :]
        assert f"{RULES_BASELINE:.1f}" in part and "+12.5" in part and "−6.0" in part
        assert "= 61" in part and "Other factors" in part


def test_the_lead_page_shows_the_model_score_once_not_again_as_a_win_probability(client, alice):
    lead = make_lead(owner=alice, score=37, conversion_probability=0.37, scored_at=timezone.now())
    client.force_login(alice)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Win probability" not in page and "37% chance of becoming sales-qualified" in page


def test_auc_and_brier_are_said_in_words():
    words = quality_in_words({"auc": 0.853, "brier": 0.09}, rows=1000, positives=150)
    assert "ranks leads well" in words["ranking"].lower() and "9 times in 10" in words["ranking"]
    # Guessing 15% for everyone has a Brier score of 0.1275; 0.09 is 29% closer.
    assert "29% closer" in words["chances"] and "15%" in words["chances"]


def test_the_scoring_page_explains_the_model_and_keeps_the_exact_figures_a_click_away(client, ada):
    ScoringModel.objects.create(
        algorithm="test",
        trained_at=timezone.now(),
        rows=1000,
        positives=150,
        blob=b"",
        is_active=True,
        metrics={"auc": 0.853, "brier": 0.09, "folds": 5},
    )
    client.force_login(ada)
    page = client.get("/scoring/").content.decode()
    quality = page[page.index('id="model-quality"') :]
    assert "times in 10" in quality and "closer to what happened" in quality
    figures = quality[quality.index('<details id="model-figures">') :]
    assert "AUC 0.853" in figures and "Brier score 0.09" in figures
