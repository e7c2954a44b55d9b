"""A lead's score read plainly: a baseline, the reasons, and what the reasons leave out.

Every score is shown as an exact sum: baseline + each listed reason + "other factors" = the
score. The baseline is where a lead starts before anything is known about it: for the rules,
a D grade with no engagement (50 × D's rank ÷ 12); for the model, the share of judged leads
that converted when it was trained (its base rate, in points). The listed reasons are the
strongest ones stored with the score; "other factors" is the rest (smaller reasons, and how the
model combines them), so the parts always add up to the number on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from closedloop.scoring import engine
from closedloop.scoring.models import ScoringModel

RULES_BASELINE = 50 * engine.GRADES.index("D") / (len(engine.GRADES) - 1)


@dataclass(frozen=True)
class Part:
    text: str
    points: float

    @property
    def raises(self) -> bool:
        return self.points > 0

    @property
    def signed(self) -> str:
        # A real minus sign (U+2212) reads better next to a number than a hyphen.
        return f"{'+' if self.points >= 0 else '−'}{abs(self.points):.1f}"


@dataclass(frozen=True)
class Breakdown:
    score: int
    baseline: Part
    reasons: list[Part]
    other: Part
    by_model: bool
    probability: float | None


def model_baseline() -> float | None:
    """The active model's base rate in points (None when the rules score)."""
    row = ScoringModel.objects.filter(is_active=True).values("rows", "positives").first()
    if not row or not row["rows"]:
        return None
    return 100 * row["positives"] / row["rows"]


def breakdown(lead, *, model_base: float | None = None) -> Breakdown:
    """The lead's score as baseline + reasons + other factors (see the module docstring).
    `model_base`: model_baseline(), when the caller already has it."""
    by_model = lead.conversion_probability is not None
    base = (model_base if model_base is not None else model_baseline()) if by_model else None
    base_points = base if base is not None else RULES_BASELINE
    label = (
        "Starting point: the share of leads that converted"
        if by_model
        else ("Starting point: grade D, no engagement")
    )
    reasons = [Part(text, points) for text, points in _reasons(lead.score_reasons)]
    rest = lead.score - base_points - sum(p.points for p in reasons)
    return Breakdown(
        score=lead.score,
        baseline=Part(label, base_points),
        reasons=reasons,
        other=Part("Other factors, and how they combine", rest),
        by_model=by_model,
        probability=lead.conversion_probability,
    )


def _reasons(raw) -> list[tuple[str, float]]:
    """(text, points) of the stored reasons, strongest first; malformed entries skipped (the
    field is JSON written by the scorer, and a bad entry must not break a page)."""
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            try:
                out.append((item["text"], round(float(item.get("effect") or 0), 1)))
            except (TypeError, ValueError):
                continue
    return sorted(out, key=lambda pair: abs(pair[1]), reverse=True)


def quality_in_words(metrics: dict, *, rows: int, positives: int) -> dict:
    """The model's cross-validated AUC and Brier score said in words for the scoring page.

    AUC: the chance that, of one lead that converted and one that did not, the model scores
    the converter higher (0.5 is a coin toss). Brier: the mean squared gap between predicted
    chance and outcome; compared with always guessing the base rate p (whose Brier is
    p·(1−p)), 1 − Brier / (p·(1−p)) is how much closer to the truth the model's chances are.
    """
    auc, brier = metrics.get("auc"), metrics.get("brier")
    base = positives / rows if rows else None
    words = {"ranking": "", "chances": ""}
    if isinstance(auc, int | float):
        verdict = "well" if auc >= 0.8 else "fairly" if auc >= 0.7 else "poorly"
        words["ranking"] = (
            f"Ranks leads {verdict}: of one lead that converted and one that did not, it "
            f"scores the converter higher {round(10 * auc)} times in 10 (a coin toss: 5)."
        )
    if isinstance(brier, int | float) and base and 0 < base < 1:
        skill = 1 - brier / (base * (1 - base))
        words["chances"] = (
            f"Its chances are {max(skill, 0):.0%} closer to what happened than always guessing "
            f"the average rate of {base:.0%}."
            if skill > 0
            else f"Its chances are no closer to what happened than guessing {base:.0%} for all."
        )
    return words
