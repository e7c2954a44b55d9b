"""The hidden ground truth of the demo company. Pure NumPy: no Django.

The demo's outcomes are *drawn* from the rules below, so that scoring, attribution and content
analytics have something true to find, and tests can check that they find it.

1. A lead's true propensity (probability of reaching SQL when followed up within a day) is

       p = sigmoid(BASE_LOGIT + fit_logit + engagement_logit + ln(campaign_quality))

   - fit_logit: sum of INDUSTRY_EFFECT, the EMPLOYEE_BANDS effect, SENIORITY_EFFECT,
     COUNTRY_EFFECT and PERSONAL_EMAIL_EFFECT (an address at one of PERSONAL_DOMAINS).
     It agrees with the default ICP on most points, but not all (Manufacturing converts well
     although the ICP leaves it out; enterprise companies of 5,000+ convert less than 1,000+):
     a model trained on outcomes can beat the hand-written rules.
   - engagement_logit = ENGAGEMENT_SLOPE * ln(1 + E), where E sums TOUCH_WEIGHT over the lead's
     *marketing* touches (not sales calls or meetings, which follow conversion), each decayed
     by half every HALF_LIFE_DAYS before the lead's reference time `created_at + HORIZON_DAYS`;
     content views count (1 + effectiveness) times their weight. Views of links a rep shared
     during a deal (their properties name the `share_link`) are sales touches here: they
     count for winning (4.), not for reaching SQL.
   - campaign_quality: a hidden multiplier on the odds for the lead's original campaign.

   `true_propensity` recomputes p exactly from what is stored (firmographics, touches,
   original campaign) plus the hidden per-campaign and per-asset parameters, which are a
   function of the seed alone (`hidden_parameters`). `closedloop.demo.services.demo_truth()`
   does that for a loaded database.

2. The funnel: a lead becomes MQL when the definitions contract's MQL rule first holds for it
   (as in the app; see `closedloop.demo.mqlrule`). An MQL reaches SQL with probability
   min(1, SQL_LIFT · p) times `speed_multiplier` of how fast its rep followed up (a lead first
   touched after three days converts at less than half the rate). SQL_LIFT makes up for the
   leads the rule never lets through, so the company has about as many SQLs as Σ p.

3. Reps differ in follow-up speed: each rep's delays from MQL to first touch are log-normal
   around a hidden median (`rep_follow_up_minutes`), some reps fast, some slow.

4. Deals: an opportunity is won with probability `win_probability`: better-fitting contacts,
   a better campaign, and above all the *effective* content assets its contacts viewed raise it
   (`asset_effectiveness`: most assets do nothing, a few help a lot, a few hurt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from closedloop.vocabulary import TouchType

BASE_LOGIT = -4.6
SQL_LIFT = 2.5
HORIZON_DAYS = 60
HALF_LIFE_DAYS = 21.0
ENGAGEMENT_SLOPE = 1.15

INDUSTRY_EFFECT = {
    "Software": 0.8,
    "Financial services": 0.6,
    "Healthcare": 0.45,
    "Manufacturing": 0.55,
    "Logistics": 0.1,
    "Energy": 0.15,
    "Professional services": 0.0,
    "Telecommunications": 0.0,
    "Retail": -0.25,
    "Media": -0.35,
    "Government": -0.5,
    "Education": -0.8,
    "Nonprofit": -1.0,
}
# (lower bound of employees, effect), ascending.
EMPLOYEE_BANDS = ((0, -0.9), (50, -0.3), (200, 0.3), (1000, 0.65), (5000, 0.35))
SENIORITY_EFFECT = {
    "C-level": 0.4,
    "VP": 0.75,
    "Director": 0.6,
    "Manager": 0.2,
    "Individual contributor": -0.5,
}
COUNTRY_EFFECT = {
    "US": 0.3,
    "GB": 0.2,
    "DE": 0.2,
    "CA": 0.2,
    "AU": 0.1,
    "NL": 0.1,
    "FR": 0.0,
    "SG": 0.0,
    "ES": -0.1,
    "JP": -0.2,
    "BR": -0.3,
    "MX": -0.3,
    "IN": -0.4,
}
PERSONAL_EMAIL_EFFECT = -1.0
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com")

TOUCH_WEIGHT = {
    "page_view": 0.25,
    "email_open": 0.08,
    "email_click": 0.5,
    "form": 1.5,
    "webinar": 2.0,
    "ad_click": 0.15,
    "content_view": 0.6,
    "event": 1.6,
}
MARKETING_TOUCH_TYPES = tuple(TOUCH_WEIGHT)

# Minutes from MQL to first touch -> multiplier on the chance of reaching SQL.
SPEED_STEPS = ((30, 1.35), (120, 1.15), (1440, 1.0), (4320, 0.7))
SPEED_SLOWEST = 0.45
FOLLOW_UP_SIGMA = 0.8  # log-normal spread of one rep's delays around their median
NEVER_FOLLOWED_MINUTES = 14 * 1440  # a delay beyond two weeks means the lead was never worked

WIN_BASE_LOGIT = -1.6
WIN_FIT_SLOPE = 0.5
WIN_CONTENT_CAP = 3.0
WIN_CAMPAIGN_SLOPE = 0.5


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(p / (1 - p)))


def _lookup(values: ArrayLike, table: dict[str, float]) -> np.ndarray:
    array = np.asarray(values, dtype=object)
    if array.size == 0:
        return np.zeros(0)
    uniques, inverse = np.unique(array.astype(str), return_inverse=True)
    return np.array([table.get(u, 0.0) for u in uniques])[inverse]


def is_personal_email(emails: ArrayLike) -> np.ndarray:
    """True where the address is at a personal mail provider (gmail.com and the like)."""
    texts = np.asarray(emails, dtype=object).astype(str)
    domains = np.strings.lower(np.strings.partition(texts, "@")[2])
    return np.isin(domains, PERSONAL_DOMAINS)


def employee_effect(employees: ArrayLike) -> np.ndarray:
    counts = np.nan_to_num(np.asarray(employees, dtype=float), nan=0.0)
    bounds = np.array([b for b, _ in EMPLOYEE_BANDS], dtype=float)
    effects = np.array([e for _, e in EMPLOYEE_BANDS])
    return np.asarray(effects[np.searchsorted(bounds, counts, side="right") - 1])


def fit_logit(
    *,
    industry: ArrayLike,
    employees: ArrayLike,
    seniority: ArrayLike,
    country: ArrayLike,
    email: ArrayLike,
) -> np.ndarray:
    """Log-odds from who the lead is. Arrays of equal length; unknown values count 0."""
    personal = is_personal_email(email)
    return np.asarray(
        _lookup(industry, INDUSTRY_EFFECT)
        + employee_effect(employees)
        + _lookup(seniority, SENIORITY_EFFECT)
        + _lookup(country, COUNTRY_EFFECT)
        + PERSONAL_EMAIL_EFFECT * personal
    )


def touch_weight(
    touch_type: ArrayLike,
    asset_effect: ArrayLike | None = None,
    *,
    categories: Sequence[str] | None = None,
) -> np.ndarray:
    """TOUCH_WEIGHT of each touch (0 for sales touches); a content view counts
    (1 + the viewed asset's effectiveness) times. `touch_type` holds type names, or integer
    codes into `categories` when that is given."""
    if categories is not None:
        table = np.array([TOUCH_WEIGHT.get(c, 0.0) for c in categories])
        codes = np.asarray(touch_type, dtype=np.int64)
        weights = table[codes]
        is_content = codes == list(categories).index(TouchType.CONTENT_VIEW)
    else:
        weights = _lookup(touch_type, TOUCH_WEIGHT)
        is_content = np.asarray(touch_type, dtype=object) == str(TouchType.CONTENT_VIEW)
    if asset_effect is not None:
        weights = weights * np.where(is_content, 1.0 + np.asarray(asset_effect, float), 1.0)
    return weights


def engagement_logit(
    *,
    n_leads: int,
    touch_lead: ArrayLike,
    touch_weight: ArrayLike,
    touch_at: ArrayLike,
    lead_created_at: ArrayLike,
) -> np.ndarray:
    """Log-odds from what each lead did: one value per lead.

    touch_lead: index (0..n_leads-1) of each touch's lead; touch_weight: from `touch_weight`;
    touch_at and lead_created_at: epoch seconds. Each touch is halved every HALF_LIFE_DAYS
    before the lead's reference time (created + HORIZON_DAYS); later touches count nothing.
    """
    leads = np.asarray(touch_lead, dtype=np.int64)
    reference = np.asarray(lead_created_at, dtype=np.int64)[leads] + HORIZON_DAYS * 86400
    age_days = (reference - np.asarray(touch_at, dtype=np.int64)) / 86400.0
    decay = np.where(age_days >= 0, 0.5 ** (np.maximum(age_days, 0) / HALF_LIFE_DAYS), 0.0)
    total = np.bincount(leads, weights=np.asarray(touch_weight) * decay, minlength=n_leads)
    return np.asarray(ENGAGEMENT_SLOPE * np.log1p(total))


def true_propensity(
    *, fit: np.ndarray, engagement: np.ndarray, campaign_quality: ArrayLike
) -> np.ndarray:
    """P(reach SQL) per lead from its fit and engagement log-odds and its campaign's quality
    (1.0 for leads without an original campaign)."""
    return sigmoid(BASE_LOGIT + fit + engagement + np.log(np.asarray(campaign_quality, float)))


def sql_probability(propensity: np.ndarray, follow_up_minutes: np.ndarray) -> np.ndarray:
    """P(an MQL reaches SQL): its propensity lifted by SQL_LIFT, scaled by follow-up speed."""
    lifted = SQL_LIFT * np.asarray(propensity, dtype=float)
    return np.asarray(np.clip(lifted * speed_multiplier(follow_up_minutes), 0.0, 1.0))


def speed_multiplier(minutes: np.ndarray) -> np.ndarray:
    """How follow-up delay (minutes from MQL to first touch) scales the chance of SQL."""
    delay = np.asarray(minutes, dtype=float)
    bounds = np.array([b for b, _ in SPEED_STEPS], dtype=float)
    values = np.array([v for _, v in SPEED_STEPS] + [SPEED_SLOWEST])
    return np.asarray(values[np.searchsorted(bounds, delay, side="left")])


def win_probability(
    *, mean_fit: np.ndarray, content_effect: np.ndarray, campaign_quality: ArrayLike
) -> np.ndarray:
    """P(won) of an opportunity: its contacts' mean fit log-odds, the summed effectiveness of
    the distinct assets they viewed (capped), and the quality of its campaign."""
    return sigmoid(
        WIN_BASE_LOGIT
        + WIN_FIT_SLOPE * mean_fit
        + np.minimum(content_effect, WIN_CONTENT_CAP)
        + WIN_CAMPAIGN_SLOPE * np.log(np.asarray(campaign_quality, float))
    )


@dataclass(frozen=True)
class HiddenParameters:
    campaign_quality: np.ndarray  # odds multiplier per campaign index
    asset_effectiveness: np.ndarray  # win log-odds per asset index
    rep_follow_up_minutes: np.ndarray  # median minutes to first touch per rep index


def hidden_parameters(seed: int, *, campaigns: int, assets: int, reps: int) -> HiddenParameters:
    """The seed's hidden per-campaign, per-asset and per-rep truths (independent of lead count)."""
    rng = np.random.default_rng([seed, 0x7A17])
    # Exact shares (not coin flips) so that every seed has stars, duds and helpful content.
    tier = rng.permutation(np.arange(campaigns) * 8 // campaigns)  # 0 star .. 7 dud, 1/8 each
    quality = rng.lognormal(0.0, 0.35, campaigns) * np.select(
        [tier == 0, tier == 7], [2.2, 0.45], 1.0
    )

    kind = rng.permutation(np.arange(assets) * 20 // assets)  # twentieths of the assets
    effect = np.select(
        [kind < 13, kind < 17, kind < 19],
        [rng.normal(0, 0.05, assets), rng.uniform(0.6, 1.0, assets), rng.uniform(1.4, 2.0, assets)],
        rng.uniform(-0.9, -0.5, assets),
    )  # 65% nothing, 20% helpful, 10% strong, 5% harmful: strong enough that ~1,000 closed
    # deals (the default demo) show which is which (tests/content/test_demo_content.py)

    habit = rng.permutation(np.arange(reps) % 3)  # 0 fast, 1 steady, 2 slow, in equal shares
    minutes = np.select(
        [habit == 0, habit == 1],
        [rng.uniform(5, 20, reps), rng.uniform(45, 180, reps)],
        rng.uniform(480, 1800, reps),
    )
    return HiddenParameters(quality, effect, minutes)
