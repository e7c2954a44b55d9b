"""Scoring adapters: read leads and touches in a few big queries, score with the engine, write back.

The arithmetic is in the `engine` package; this module moves data between the database and arrays.

Which score a lead gets (`Lead.score`, 0–100):
- the predictive model's conversion probability × 100 while a trained model is active;
- otherwise the rules blend: 50 × (fit grade rank / 12) + 50 × E / (E + M), where E is the
  engagement score and M the MQL rule's minimum engagement (so a lead exactly at the engagement
  bar gets 25 of the 50 engagement points, and an A+ lead all 50 fit points).

The training label (see docs/decisions/0006-predictive-scorer.md):
- only leads created MATURITY_DAYS or more ago are judged: their outcome has had time to
  happen. (Judging young leads too would bias the label: the young ones that converted fast
  would count, the young ones still in progress would not.)
- converted (1): the lead reached SQL, opportunity or customer at some point (sales confirmed it);
- not converted (0): every other judged lead: disqualified, lost, or never got that far;
- unlabelled (-1): younger leads; they are scored but neither learned from nor judged.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import joblib
import numpy as np
import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from closedloop.core.audit import record_bulk
from closedloop.core.db import vendor
from closedloop.core.db.chunks import chunked
from closedloop.core.db.insert import update_rows
from closedloop.crm.models import Lead, LifecycleStage, StageChange
from closedloop.definitions import services as definitions
from closedloop.definitions.contract import Contract, parse_contract
from closedloop.definitions.models import ContractStatus, ContractVersion
from closedloop.scoring import engine
from closedloop.scoring.models import RescoreRun, Scorer, ScoringModel
from closedloop.scoring.reading import (  # noqa: F401  (re-exported: callers read through here)
    MODEL_TOUCH_TYPES,
    LeadData,
    model_frame,
    model_input,
    read_leads,
    read_stages,
)
from closedloop.vocabulary import TouchType

MIN_LABELLED = 1000  # labelled leads needed before the model replaces the rules
MIN_CONVERSIONS = 100  # … of which converted
MATURITY_DAYS = 90  # a lead this old that never converted counts as not converted
MAX_TRAINING_ROWS = 200_000  # judged leads sampled for training beyond this
CONVERTED_STAGES = (LifecycleStage.SQL, LifecycleStage.OPPORTUNITY, LifecycleStage.CUSTOMER)
MQL_ENTRY_STAGES = (LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD, LifecycleStage.RECYCLED)
WRITE_CHUNK = 20_000
RESCORE_SLICE = 10_000  # lead ids per read in rescore_leads (query parameters are limited)

FEATURE_LABELS = {
    "industry": "Industry",
    "employees": "Company size (employees)",
    "seniority": "Seniority",
    "country": "Country",
    "email_domain": "Email domain",
    "source": "Lead source",
    "title": "Job title",
    "campaign": "Original campaign",
    **{
        f"touches_{t}": f"{t.replace('_', ' ').capitalize()}s in first 90 days"
        for t in MODEL_TOUCH_TYPES
    },
}
# A reason's words per engagement group: the default contract's cap groups ("web", "email")
# and every touch type that is its own group.
GROUP_TEXTS = {
    "web": "Recent website visits",
    "email": "Recent email engagement",
    TouchType.FORM: "Filled in a form recently",
    TouchType.WEBINAR: "Attended a webinar recently",
    TouchType.CONTENT_VIEW: "Read content recently",
    TouchType.EVENT: "Visited an event recently",
    TouchType.SALES_CALL: "Recent sales call",
    TouchType.MEETING: "Recent meeting",
}
LOW_ENGAGEMENT_TEXT = "Little recent engagement"


def _contract() -> tuple[Contract, int | None]:
    """The contract in force and its version number.

    One plain query for the two values: building the whole version through the ORM was a
    noticeable part of the one-lead rescore that follows every touch."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT body, number FROM {ContractVersion._meta.db_table} WHERE status = %s",
            [ContractStatus.ACTIVE.value],
        )
        found = cursor.fetchone()
    if found is None:  # none yet: this installs the starting contract
        version = definitions.active_contract()
        return version.contract, version.number
    body, number = found
    return parse_contract(json.loads(body) if isinstance(body, str | bytes) else body), number


class NotEnoughHistory(Exception):
    """Too few labelled leads or conversions to train a model (the rules stay in use)."""


# ------------------------------------------------------------------------------------------
# Labels and training
# ------------------------------------------------------------------------------------------


def outcome_labels(data: LeadData, *, now: datetime) -> np.ndarray:
    """Per lead: 1 converted, 0 not converted, -1 unlabelled (see the module docstring)."""
    converted = np.isin(data.ids, _ever_converted_ids())
    stage = data.frame["stage"].to_numpy()
    converted |= np.isin(stage, [str(s) for s in CONVERTED_STAGES])
    age_days = (now.timestamp() - data.frame["created"].to_numpy()) / 86400
    return np.where(age_days >= MATURITY_DAYS, converted.astype(int), -1)


def _ever_converted_ids() -> np.ndarray:
    stages = [str(s) for s in CONVERTED_STAGES]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT lead_id FROM {vendor.table(StageChange)} "
            "WHERE to_stage IN (%s, %s, %s)",
            stages,
        )
        return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)


def history_counts(*, now: datetime | None = None) -> dict[str, int]:
    """How much judged history there is.

    Returns {labelled, conversions, needed_labelled, needed_conversions}.
    """
    now = now or timezone.now()
    data = read_stages()
    labels = outcome_labels(data, now=now)
    return {
        "labelled": int((labels >= 0).sum()),
        "conversions": int((labels == 1).sum()),
        "needed_labelled": MIN_LABELLED,
        "needed_conversions": MIN_CONVERSIONS,
    }


def enough_history(labels: np.ndarray) -> bool:
    return int((labels >= 0).sum()) >= MIN_LABELLED and int((labels == 1).sum()) >= MIN_CONVERSIONS


def train_model(*, by: str = "", now: datetime | None = None) -> ScoringModel:
    """Choose, train and calibrate the predictive model on the labelled leads; make it active.

    engine.AutoModel compares the candidate models by an inner 5-fold cross-validation of
    these leads, fits the winner on all of them and calibrates it (Platt scaling) on its
    out-of-fold predictions. `metrics` holds the winner's cross-validated AUC and Brier score
    and every candidate's AUC ("choice"). Raises NotEnoughHistory below MIN_LABELLED /
    MIN_CONVERSIONS.
    """
    now = now or timezone.now()
    data = read_leads(half_life_days=0, now=now)
    labels = outcome_labels(data, now=now)
    if not enough_history(labels):
        counts = {"labelled": int((labels >= 0).sum()), "conversions": int((labels == 1).sum())}
        raise NotEnoughHistory(
            f"{counts['labelled']} labelled leads and {counts['conversions']} conversions; "
            f"the model needs {MIN_LABELLED} and {MIN_CONVERSIONS}"
        )
    labelled = _training_sample(labels)
    frame = model_frame(data).filter(pl.Series(labelled))
    outcome = labels[labelled]
    model = engine.AutoModel(labels=FEATURE_LABELS, random_state=0, leads_to_score=len(data)).fit(
        frame, outcome
    )
    choice = model.choice
    metrics = {
        "auc": choice["inner_auc"][choice["chosen"]],
        "brier": choice["inner_brier"],
        "rows": int(labelled.sum()),
        "positives": int(outcome.sum()),
        "folds": choice["inner_folds"],
        "seed": 0,
        "calibration": choice["calibration"],
        "choice": choice,
    }
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    with transaction.atomic():
        ScoringModel.objects.filter(is_active=True).update(is_active=False)
        row = ScoringModel.objects.create(
            algorithm=model.title[:80],
            trained_at=now,
            rows=int(labelled.sum()),
            positives=int(outcome.sum()),
            metrics=metrics,
            features=model.encoder.columns,
            blob=buffer.getvalue(),
            is_active=True,
            trained_by=by[:200],
        )
    _model_cache.clear()
    return row


def _training_sample(labels: np.ndarray) -> np.ndarray:
    """Mask of the judged leads to learn from: all of them, or a fixed-seed random
    MAX_TRAINING_ROWS when there are more (a few hundred thousand rows say all that ~20
    columns can say, and keep a weekly retraining within minutes)."""
    judged = np.flatnonzero(labels >= 0)
    if len(judged) > MAX_TRAINING_ROWS:
        judged = np.random.default_rng(0).choice(judged, MAX_TRAINING_ROWS, replace=False)
    mask = np.zeros(len(labels), dtype=bool)
    mask[judged] = True
    return mask


_model_cache: dict[int, engine.AutoModel] = {}


def active_model() -> tuple[ScoringModel | None, engine.AutoModel | None]:
    """The active model row and its loaded model (cached per process), or (None, None)."""
    row = ScoringModel.objects.filter(is_active=True).defer("blob", "metrics", "features").first()
    if row is None:
        return None, None
    return row, _loaded_model(row.pk)


def active_model_only() -> engine.AutoModel | None:
    """The active model (cached per process) without its row: one small query per call."""
    with connection.cursor() as cursor:  # at most one is active (a unique constraint)
        cursor.execute(f"SELECT id FROM {ScoringModel._meta.db_table} WHERE is_active")
        found = cursor.fetchone()
    return None if found is None else _loaded_model(found[0])


def _loaded_model(pk: int) -> engine.AutoModel:
    # A model row's blob never changes (retraining adds a row), so its pk is a safe key.
    if pk not in _model_cache:
        blob = ScoringModel.objects.filter(pk=pk).values_list("blob", flat=True).get()
        _model_cache.clear()
        _model_cache[pk] = joblib.load(io.BytesIO(bytes(blob)))
    return _model_cache[pk]


# ------------------------------------------------------------------------------------------
# Scoring
# ------------------------------------------------------------------------------------------


@dataclass
class Scores:
    """Computed scores for LeadData, row-aligned."""

    grades: np.ndarray
    engagement: np.ndarray
    probability: np.ndarray | None
    score: np.ndarray
    reasons: list[str] | pl.Series  # JSON text per lead
    meets_mql: np.ndarray
    scorer: str
    timings: dict[str, float] = field(default_factory=dict)


def compute_scores(data: LeadData, *, contract: Contract, model: engine.AutoModel | None) -> Scores:
    """Fit grade, engagement, probability, 0–100 score, reasons and the MQL rule for `data`.

    For many leads the rules part (grade, engagement) runs on a second thread while the model
    scores: both are NumPy and Polars work that releases the GIL, and neither reads the
    other's results. timings: seconds per part (rules_s overlaps predict_s then).
    """
    timings: dict[str, float] = {}
    if model is None or len(data) <= engine.SMALL:
        ranks, by_group, groups, matches = _rules_part(data, contract, timings)
        predicted = _model_part(data, model, timings) if model is not None else None
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            rules = pool.submit(_rules_part, data, contract, timings)
            predicted = _model_part(data, model, timings)
            ranks, by_group, groups, matches = rules.result()
    grades = np.asarray(engine.GRADES, dtype=object)[ranks]
    engagement = by_group.sum(axis=1)
    rule = contract.mql_rule
    bar = rule.min_engagement or 40
    if predicted is None:
        score, ids, effects, texts = _rules_score(
            ranks, by_group, groups, engagement, bar, matches, contract.icp
        )
        probability = None
        started = time.perf_counter()
        top_ids, top_effects = engine.top_factors(ids, effects)
        timings["factors_s"] = time.perf_counter() - started
    else:
        probability, top_ids, top_effects = predicted
        score = np.rint(100 * probability)
        assert model is not None  # predicted is only set with a model
        texts = model.factor_texts()
    started = time.perf_counter()
    reasons = (
        engine.reasons_json(top_ids, top_effects, texts)
        if len(data) <= engine.SMALL
        else engine.reasons_series(top_ids, top_effects, texts)
    )
    timings["reasons_s"] = time.perf_counter() - started
    return Scores(
        grades=grades,
        engagement=engagement,
        probability=probability,
        score=np.clip(score, 0, 100).astype(int),
        reasons=reasons,
        meets_mql=engine.meets_mql_rule(None, engagement, rule, ranks=ranks),
        scorer=Scorer.RULES if model is None else Scorer.MODEL,
        timings=timings,
    )


def _rules_part(data: LeadData, contract: Contract, timings: dict) -> tuple:
    """(grade ranks, engagement per cap group, group names, ICP matches) for compute_scores."""
    started = time.perf_counter()
    names = ("industry", "employees", "seniority", "country", "email", "source", "title")
    small = len(data) <= engine.SMALL
    columns = {name: data.frame[name].to_list() if small else data.frame[name] for name in names}
    icp = contract.icp
    matches = engine.fit_matches(columns, icp, n_leads=len(data))
    steps = np.array([c.step for c in icp])
    points = matches @ steps if icp else np.zeros(len(data))
    by_group, groups = engine.engagement_by_group(
        data.touch_lead,
        data.touch_type,
        np.zeros(len(data.touch_lead)),
        len(data),
        contract.engagement,
        type_names=data.type_names,
        multiplicity=data.touch_decayed,
    )
    timings["rules_s"] = time.perf_counter() - started
    return engine.grade_ranks_from_points(points), by_group, groups, matches


def _model_part(data: LeadData, model: engine.AutoModel, timings: dict) -> tuple:
    """(probability, top factor ids, their effects): encoding, prediction and the choice of
    factors, timed together as predict_s."""
    started = time.perf_counter()
    matrix = model.encoder.transform(model_input(data))
    predicted = model.predict_with_reasons(matrix)
    timings["predict_s"] = time.perf_counter() - started
    return predicted


def _rules_score(ranks, by_group, groups, engagement, bar, matches, icp):
    """The rules blend and its factors: each ICP criterion and engagement group, in points."""
    share = engagement / (engagement + bar)
    score = np.rint(50 * ranks / (len(engine.GRADES) - 1) + 50 * share)
    steps = np.array([c.step for c in icp])
    criteria_effect = np.where(matches, 50 * steps / (len(engine.GRADES) - 1), 0.0)
    group_effect = 50 * by_group / (engagement + bar)[:, None]
    # Below half the bar, say so: a lead with a good fit but no activity should read as cold.
    low = np.where(engagement < bar / 2, 50 * (share - 1 / 3), 0.0)[:, None]
    effects = np.hstack([criteria_effect, group_effect, low])
    n_factors = effects.shape[1]
    ids = np.broadcast_to(np.arange(n_factors), effects.shape)
    texts = [c.label for c in icp]
    texts += [GROUP_TEXTS.get(g, f"Recent {g.replace('_', ' ')}") for g in groups]
    texts.append(LOW_ENGAGEMENT_TEXT)
    return score, ids, effects, texts


# ------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------


def _write_scores(data: LeadData, scores: Scores, *, now: datetime) -> int:
    """Write the scores back, skipping leads whose stored scores are already these; returns
    how many leads were written. scored_at is when a lead's scores were last written."""
    if data.stored is None and len(data) <= engine.SMALL:
        rows = _few_rows(data, scores, now)  # the one-lead rescore: no frame needed
    else:
        rows = _changed_rows(data, scores, now)
    # One transaction per chunk keeps SQLite's write lock short for the web requests.
    return update_rows(Lead, _WRITTEN, rows, json_as_text=True, per_transaction=WRITE_CHUNK)


# The columns _write_scores sets, in the order of _few_rows' and _changed_rows' tuples.
_WRITTEN = (
    "fit_grade",
    "engagement_score",
    "conversion_probability",
    "score",
    "score_reasons",
    "scored_at",
)


def _few_rows(data: LeadData, scores: Scores, stamp) -> list[tuple]:
    """_changed_rows for a few leads without a stored state: every lead, in plain Python."""
    n = len(data)
    probability = scores.probability.tolist() if scores.probability is not None else [None] * n
    return list(
        zip(
            [str(grade) for grade in scores.grades],
            np.round(scores.engagement, 3).tolist(),
            probability,
            scores.score.astype(np.int64).tolist(),
            list(scores.reasons),
            [stamp] * n,
            data.ids.tolist(),
            strict=True,
        )
    )


def _changed_rows(data: LeadData, scores: Scores, stamp) -> list[tuple]:
    """UPDATE parameters for the leads whose scores differ from the stored ones (all leads
    when nothing stored was read): the score fields, scored_at and the id."""
    fresh = pl.DataFrame(
        {
            "fit_grade": pl.Series(scores.grades.tolist(), dtype=pl.Utf8),
            "engagement_score": np.round(scores.engagement, 3),
            "conversion_probability": pl.Series(
                scores.probability if scores.probability is not None else [None] * len(data),
                dtype=pl.Float64,
            ),
            "score": scores.score.astype(np.int64),
            "score_reasons": pl.Series(scores.reasons, dtype=pl.Utf8),
        }
    )
    ids = pl.Series("id", data.ids)
    if data.stored is not None and data.stored.height == fresh.height:
        # A full rescore seconds after the last one changes few leads: rewriting a million
        # unchanged rows (reasons included) was most of its time on SQLite.
        changed = pl.Series(np.zeros(fresh.height, dtype=bool))
        for name in fresh.columns:
            changed = changed | fresh[name].ne_missing(data.stored[name])
        fresh, ids = fresh.filter(changed), ids.filter(changed)
    return list(
        zip(
            *(fresh[name].to_list() for name in fresh.columns),
            [stamp] * fresh.height,
            ids.to_list(),
            strict=True,
        )
    )


def _promote_to_mql(data: LeadData, scores: Scores, *, version: int | None) -> int:
    """Move leads that now meet the MQL rule from subscriber/lead/recycled to MQL."""
    from closedloop.crm.services import change_stage

    stage = data.frame["stage"].to_numpy()
    candidates = data.ids[scores.meets_mql & np.isin(stage, [str(s) for s in MQL_ENTRY_STAGES])]
    if len(candidates) == 0:
        return 0
    today = timezone.localdate()
    label = f"v{version}" if version is not None else "defaults"
    lifecycle = definitions.current_lifecycle()
    moved = 0
    for lead in Lead.objects.filter(pk__in=candidates.tolist()):
        if not lifecycle.allows(lead.lifecycle_stage, LifecycleStage.MQL):
            continue  # the contract's lifecycle has no such move (e.g. subscriber → MQL)
        if (
            lead.lifecycle_stage == LifecycleStage.RECYCLED
            and lead.recycle_at
            and lead.recycle_at > today
        ):
            continue  # nurture until the agreed re-entry date
        if change_stage(
            lead,
            to=LifecycleStage.MQL,
            reason=f"MQL rule of contract {label}",
            rule_version=version,
            lifecycle=lifecycle,
        ):
            moved += 1
    return moved


def rescore_all(*, trigger: str = "", progress: Callable[[str, float], None] | None = None) -> dict:
    """Rescore every lead in bulk; returns counts and seconds (also stored as a RescoreRun).

    `progress(step, fraction)` is called between the steps (read, compute, write, mql).
    """
    report = progress or (lambda step, fraction: None)
    started, now = time.perf_counter(), timezone.now()
    contract, version = _contract()
    model_row, model = active_model()
    report("read", 0.0)
    half_life = contract.engagement.half_life_days
    data = read_leads(half_life_days=half_life, now=now, with_stored=True)
    read_s = time.perf_counter() - started
    report("compute", 0.35)
    compute_started, compute_cpu = time.perf_counter(), time.process_time()
    scores = compute_scores(data, contract=contract, model=model)
    compute_s = time.perf_counter() - compute_started
    compute_cpu_s = time.process_time() - compute_cpu  # all threads: the work, not the wait
    report("write", 0.5)
    write_started = time.perf_counter()
    written = _write_scores(data, scores, now=now)
    record_bulk(Lead, count=written, description=f"rescored all leads ({scores.scorer})")
    write_s = time.perf_counter() - write_started
    report("mql", 0.95)
    moved = _promote_to_mql(data, scores, version=version)
    total_s = time.perf_counter() - started
    RescoreRun.objects.create(
        started_at=now,
        finished_at=timezone.now(),
        scorer=scores.scorer,
        model=model_row,
        contract_version=version,
        leads=len(data),
        became_mql=moved,
        compute_seconds=compute_s,
        total_seconds=total_s,
        trigger=trigger[:40],
    )
    report("done", 1.0)
    return {
        "leads": len(data),
        "scorer": str(scores.scorer),
        "became_mql": moved,
        "written": written,
        "read_s": round(read_s, 3),
        "compute_s": round(compute_s, 3),
        "compute_cpu_s": round(compute_cpu_s, 3),
        "write_s": round(write_s, 3),
        "total_s": round(total_s, 3),
        **{k: round(v, 3) for k, v in scores.timings.items()},
    }


def rescore_leads(lead_ids: Iterable[int]) -> int:
    """Rescore some leads (after new touchpoints or an import); returns how many moved to MQL.

    Any number of ids: they are read RESCORE_SLICE at a time, since each read names its ids
    as query parameters, and SQLite takes at most 32,766 in one statement on a default build.
    """
    lead_ids = sorted({int(i) for i in lead_ids})
    if not lead_ids:
        return 0
    now = timezone.now()
    contract, version = _contract()
    model = active_model_only()
    half_life = contract.engagement.half_life_days
    moved = 0
    for ids in chunked(lead_ids, RESCORE_SLICE):
        data = read_leads(lead_ids=ids, half_life_days=half_life, now=now)
        scores = compute_scores(data, contract=contract, model=model)
        _write_scores(data, scores, now=now)
        moved += _promote_to_mql(data, scores, version=version)
    return moved


def rescore_lead(lead_id: int) -> int:
    """Rescore one lead now; returns 1 if it moved to MQL."""
    return rescore_leads([lead_id])


# ------------------------------------------------------------------------------------------
# What the page shows
# ------------------------------------------------------------------------------------------

BANDS = tuple(range(0, 101, 10))


def calibration_table(*, now: datetime | None = None) -> list[dict]:
    """Per score band (0–9, 10–19, … 90–100): leads, labelled, predicted and actual conversion.

    predicted = mean score/100 of the band's labelled leads; actual = their share converted.
    Unlabelled (young, in-progress) leads are counted but not judged.
    """
    now = now or timezone.now()
    data = read_stages()
    labels = outcome_labels(data, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, score, conversion_probability FROM {vendor.table(Lead)} ORDER BY id"
        )
        rows = cursor.fetchall()
    score = np.array([r[1] for r in rows], dtype=float) if rows else np.zeros(0)
    band = np.minimum(score // 10, 9).astype(int)
    table = []
    for b in range(10):
        in_band = band == b
        judged = in_band & (labels >= 0)
        n = int(judged.sum())
        table.append(
            {
                "band": f"{b * 10}–{b * 10 + 9 if b < 9 else 100}",
                "leads": int(in_band.sum()),
                "labelled": n,
                "predicted": round(float(score[judged].mean() / 100), 4) if n else None,
                "actual": round(float((labels[judged] == 1).mean()), 4) if n else None,
            }
        )
    return table


def scoring_status() -> dict:
    """Which scorer is in use and why, the active model's metrics, and the last rescore."""
    row = ScoringModel.objects.filter(is_active=True).defer("blob").first()
    last = RescoreRun.objects.first()
    counts = history_counts()
    return {
        "scorer": Scorer.MODEL if row else Scorer.RULES,
        "scorer_label": (Scorer.MODEL if row else Scorer.RULES).label,
        "model": None
        if row is None
        else {
            "id": row.pk,
            "algorithm": row.algorithm,
            "trained_at": row.trained_at.isoformat(),
            "rows": row.rows,
            "positives": row.positives,
            "metrics": row.metrics,
            "trained_by": row.trained_by,
        },
        "history": counts,
        "enough_history": counts["labelled"] >= MIN_LABELLED
        and counts["conversions"] >= MIN_CONVERSIONS,
        "last_rescore": None
        if last is None
        else {
            "started_at": last.started_at.isoformat(),
            "leads": last.leads,
            "scorer": last.scorer,
            "total_seconds": round(last.total_seconds, 2),
            "became_mql": last.became_mql,
            "trigger": last.trigger,
        },
    }


def lead_score(lead: Lead) -> dict:
    """One lead's stored scores and reasons, as the API returns them."""
    return {
        "lead_id": lead.pk,
        "score": lead.score,
        "fit_grade": lead.fit_grade,
        "engagement_score": lead.engagement_score,
        "conversion_probability": lead.conversion_probability,
        "reasons": lead.score_reasons
        if isinstance(lead.score_reasons, list)
        else json.loads(lead.score_reasons or "[]"),
        "scored_at": lead.scored_at.isoformat() if lead.scored_at else None,
    }
