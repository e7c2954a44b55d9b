"""Scoring against the database: rescoring, the rules/model switch, MQL promotion, events."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from closedloop.core import events
from closedloop.crm.models import Lead, LifecycleStage, StageChange
from closedloop.definitions.services import active_contract_version
from closedloop.engagement.models import Touchpoint
from closedloop.scoring import services
from closedloop.scoring.models import RescoreRun, Scorer, ScoringModel
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def ideal_lead(**extra) -> Lead:
    """Software, 1,500 people, a VP in the US: 3+3+1+2+1 points, grade A+ (default contract)."""
    fields = dict(
        industry="Software", employees=1500, seniority="VP", country="US", email="vp@bigco.example"
    )
    return make_lead(**{**fields, **extra})


def touch(lead: Lead, kind: str = "webinar", *, days_ago: float = 0) -> Touchpoint:
    return Touchpoint.objects.create(
        lead=lead, type=kind, occurred_at=timezone.now() - timedelta(days=days_ago)
    )


def history(n: int, conversions: int, *, days_old: int = 120) -> None:
    """n judged leads (old enough), the first `conversions` of them at SQL; Software converts."""
    created = timezone.now() - timedelta(days=days_old)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        converted = i < conversions
        software = converted or rng.random() < 0.1
        rows.append(
            Lead(
                first_name=f"H{i}",
                email=f"h{i}@co{i % 50}.example",
                created_at=created,
                industry="Software" if software else rng.choice(["Retail", "Media", "Education"]),
                employees=int(rng.integers(10, 3000)),
                seniority=rng.choice(["VP", "Manager"]),
                country="US",
                lifecycle_stage=LifecycleStage.SQL if converted else LifecycleStage.LEAD,
            )
        )
    Lead.objects.bulk_create(rows)


def test_a_rescore_fills_grade_engagement_score_reasons_and_time():
    lead = ideal_lead()
    touch(lead, "form")
    result = services.rescore_all(trigger="test")
    lead.refresh_from_db()
    assert lead.fit_grade == "A+"
    assert lead.engagement_score == pytest.approx(15, abs=0.01)
    assert 0 < lead.score <= 100 and lead.scored_at is not None
    assert lead.conversion_probability is None  # the rules are in use
    texts = [r["text"] for r in lead.score_reasons]
    assert "Industry we win in" in texts and "Filled in a form recently" in texts
    assert all(set(r) == {"text", "effect"} for r in lead.score_reasons)
    assert result["leads"] == 1 and result["scorer"] == Scorer.RULES
    assert RescoreRun.objects.get().trigger == "test"


def test_rescoring_more_leads_than_one_query_may_name_scores_them_all():
    # SQLite takes at most 32,766 parameters in a statement on a default build (250,000 on
    # some); an import announces whole files.
    leads = [ideal_lead(), ideal_lead(email="cto@bigco.example")]
    ids = [leads[0].pk, *range(10**7, 10**7 + 260_000), leads[1].pk]

    services.rescore_leads(ids)

    assert all(lead.fit_grade == "A+" for lead in Lead.objects.filter(pk__in=[x.pk for x in leads]))


def test_the_rules_score_is_the_documented_blend():
    lead = ideal_lead()  # A+ = rank 12 of 12; no touches
    services.rescore_all()
    lead.refresh_from_db()
    assert lead.score == 50
    assert {"text": "Little recent engagement", "effect": pytest.approx(-50 / 3, abs=0.1)} in [
        {"text": r["text"], "effect": r["effect"]} for r in lead.score_reasons
    ]


def test_a_lead_that_crosses_the_mql_rule_becomes_mql_naming_the_rule_version():
    lead = ideal_lead()
    for _ in range(3):
        touch(lead, "webinar")  # 60 points, above the bar of 40
    moved = services.rescore_lead(lead.pk)
    lead.refresh_from_db()
    change = StageChange.objects.get(lead=lead)
    version = active_contract_version()
    assert moved == 1 and lead.lifecycle_stage == LifecycleStage.MQL
    assert change.to_stage == LifecycleStage.MQL and change.rule_version == version
    assert f"v{version}" in change.reason


def test_a_poor_fit_or_a_lead_already_with_sales_is_not_made_mql():
    poor = make_lead(industry="Retail", employees=20)
    with_sales = ideal_lead(stage=LifecycleStage.SAL)
    for lead in (poor, with_sales):
        for _ in range(3):
            touch(lead, "webinar")
    services.rescore_all()
    assert not StageChange.objects.exists()


def test_a_recycled_lead_waits_for_its_re_entry_date():
    lead = ideal_lead(
        stage=LifecycleStage.RECYCLED, recycle_at=timezone.localdate() + timedelta(days=10)
    )
    for _ in range(3):
        touch(lead, "webinar")
    services.rescore_all()
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.RECYCLED


def test_old_activity_decays_out_of_the_score():
    fresh, stale = ideal_lead(), ideal_lead()
    touch(fresh, "webinar")
    touch(stale, "webinar", days_ago=730)
    services.rescore_all()
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert fresh.engagement_score == pytest.approx(20, abs=0.01)
    assert stale.engagement_score < 0.01 and stale.score < fresh.score


def test_new_touchpoints_announced_by_the_event_rescore_their_lead(
    django_capture_on_commit_callbacks,
):
    lead = ideal_lead()
    services.rescore_all()
    touch(lead, "form")
    with django_capture_on_commit_callbacks(execute=True):
        events.touchpoints_recorded.send(sender=Touchpoint, payload={"lead_ids": [lead.pk]})
    lead.refresh_from_db()
    assert lead.engagement_score == pytest.approx(15, abs=0.01)


def test_activating_a_contract_rescores_everything(django_capture_on_commit_callbacks):
    ideal_lead()
    with django_capture_on_commit_callbacks(execute=True):
        events.contract_activated.send(sender=None, payload={"version": 7})
    run = RescoreRun.objects.get()
    assert run.trigger == "contract v7" and run.leads == 1


def test_the_rules_stay_until_there_is_enough_history():
    assert not services.enough_history(np.array([1] * 99 + [0] * 901))
    assert not services.enough_history(np.array([1] * 100 + [0] * 899))
    assert services.enough_history(np.array([1] * 100 + [0] * 900 + [-1] * 50))


def test_training_is_refused_below_the_threshold_and_the_rules_stay_in_use():
    history(999, 150)
    with pytest.raises(services.NotEnoughHistory, match="999 labelled"):
        services.train_model()
    assert services.scoring_status()["scorer"] == Scorer.RULES


def test_young_leads_are_not_judged():
    history(50, 10, days_old=30)
    assert services.history_counts()["labelled"] == 0


def test_with_enough_history_the_model_takes_over_and_explains_itself():
    history(1000, 100)
    model = services.train_model(by="test")
    assert model.is_active and model.rows == 1000 and model.positives == 100
    assert {"auc", "brier", "rows", "folds"} <= set(model.metrics)
    services.rescore_all()
    software = (
        Lead.objects.filter(industry="Software").exclude(lifecycle_stage=LifecycleStage.SQL).first()
    )
    retail = Lead.objects.filter(industry="Retail").first()
    assert software.conversion_probability > retail.conversion_probability
    assert software.score == round(100 * software.conversion_probability)
    assert {"text": "Industry: Software"} in [
        {"text": r["text"]} for r in software.score_reasons if r["effect"] > 0
    ]
    status = services.scoring_status()
    assert status["scorer"] == Scorer.MODEL and status["model"]["rows"] == 1000


def test_training_stores_the_chosen_model_and_every_candidates_inner_auc():
    history(1000, 100)
    model = services.train_model(by="test")
    choice = model.metrics["choice"]
    assert set(choice["inner_auc"]) == {"additive", "logistic", "naive_bayes", "boosted"}
    assert model.metrics["auc"] == choice["inner_auc"][choice["chosen"]]
    assert model.algorithm.startswith("Automatic choice: ")
    assert choice["chosen_title"] in model.algorithm
    shown = services.scoring_status()["model"]["metrics"]["choice"]
    assert shown["chosen"] == choice["chosen"] and shown["tie_margin"] == 0.002


def test_retraining_replaces_the_active_model():
    history(1000, 100)
    first = services.train_model()
    second = services.train_model()
    assert list(ScoringModel.objects.filter(is_active=True)) == [second]
    first.refresh_from_db()
    assert not first.is_active


def test_the_calibration_table_judges_only_old_enough_leads():
    history(200, 40)
    history(30, 30, days_old=10)
    services.rescore_all()
    table = services.calibration_table()
    assert sum(row["leads"] for row in table) == 230
    assert sum(row["labelled"] for row in table) == 200
    judged = [row for row in table if row["labelled"]]
    assert all(0 <= row["actual"] <= 1 and 0 <= row["predicted"] <= 1 for row in judged)


def test_rescoring_an_empty_database_reports_zero_leads():
    result = services.rescore_all()
    assert result["leads"] == 0 and result["became_mql"] == 0
    assert services.calibration_table()[0] == {
        "band": "0–9",
        "leads": 0,
        "labelled": 0,
        "predicted": None,
        "actual": None,
    }


def test_a_second_rescore_writes_back_only_the_leads_whose_scores_changed():
    quiet, active = ideal_lead(), ideal_lead()
    assert services.rescore_all()["written"] == 2
    before = Lead.objects.get(pk=quiet.pk).scored_at
    assert services.rescore_all()["written"] == 0
    touch(active, "form")
    assert services.rescore_all()["written"] == 1
    active.refresh_from_db()
    assert "Filled in a form recently" in [r["text"] for r in active.score_reasons]
    assert active.engagement_score == pytest.approx(15, abs=0.01)
    assert Lead.objects.get(pk=quiet.pk).scored_at == before


def test_with_the_model_an_unchanged_lead_is_not_rewritten_either():
    history(1000, 100)
    services.train_model()
    assert services.rescore_all()["written"] == 1000
    assert services.rescore_all()["written"] == 0


def test_touches_are_summed_per_lead_and_type_and_counted_in_the_first_90_days():
    lead = make_lead(created_at=timezone.now() - timedelta(days=200))
    other = make_lead()
    for days_ago in (0, 10, 150, 190):
        touch(lead, "page_view", days_ago=days_ago)
    touch(lead, "form", days_ago=5)
    touch(other, "page_view")
    data = services.read_leads(lead_ids=[lead.pk], half_life_days=30, now=timezone.now())
    cells = {
        data.type_names[t]: (d, e)
        for t, d, e in zip(data.touch_type, data.touch_decayed, data.touch_early, strict=True)
    }
    assert set(cells) == {"page_view", "form"} and set(data.touch_lead) == {0}
    decayed, early = cells["page_view"]
    expected = sum(0.5 ** (d / 30) for d in (0, 10, 150, 190))
    assert decayed == pytest.approx(expected, rel=1e-4)
    assert early == 2  # the touches 190 and 150 days ago, within 90 days of creation


def test_reading_a_few_leads_gives_the_same_rows_as_reading_them_all():
    from closedloop.campaigns.models import Campaign

    campaign = Campaign.objects.create(
        name="Spring webinar", type="webinar", channel="email", starts_on=timezone.localdate()
    )
    leads = [
        ideal_lead(original_campaign=campaign),
        make_lead(employees=None, industry=""),
        make_lead(original_campaign=campaign, created_at=timezone.now() - timedelta(days=40)),
    ]
    touch(leads[0], "page_view", days_ago=3)
    touch(leads[2], "form", days_ago=1)
    now = timezone.now()
    every = services.read_leads(half_life_days=30, now=now)
    few = services.read_leads(lead_ids=[leads[0].pk, leads[2].pk], half_life_days=30, now=now)
    rows = np.flatnonzero(np.isin(every.ids, few.ids))
    assert few.ids.tolist() == every.ids[rows].tolist()
    assert few.frame.equals(every.frame[rows.tolist()])
    assert few.frame["campaign"].to_list() == ["Spring webinar", "Spring webinar"]
    expected = sorted(zip(every.touch_lead, every.touch_type, every.touch_decayed, strict=True))
    got = sorted(
        (rows[lead], kind, decayed)
        for lead, kind, decayed in zip(
            few.touch_lead, few.touch_type, few.touch_decayed, strict=True
        )
    )
    assert got == [row for row in expected if row[0] in set(rows.tolist())]


def test_the_one_lead_rescore_writes_what_a_full_rescore_writes():
    history(1000, 100)
    services.train_model()
    lead = ideal_lead()
    touch(lead, "webinar", days_ago=2)
    services.rescore_lead(lead.pk)
    lead.refresh_from_db()
    one = (lead.fit_grade, lead.engagement_score, lead.conversion_probability, lead.score)
    reasons = lead.score_reasons
    services.rescore_all()
    lead.refresh_from_db()
    assert (lead.fit_grade, lead.score, lead.conversion_probability) == (one[0], one[3], one[2])
    assert lead.engagement_score == pytest.approx(one[1], abs=1e-3)  # a moment of decay later
    assert lead.score_reasons == reasons
