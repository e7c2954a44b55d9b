"""Read the hidden ground truth back from a loaded demo company (for tests and benchmarks).

Nothing extra is stored: the truth is recomputed from the rows (`closedloop.demo.truth`) and
from the seed, which the demo campaigns carry in their external id (`demo:SEED:INDEX`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from closedloop.campaigns.models import Campaign
from closedloop.content.models import ContentAsset
from closedloop.core.models import User
from closedloop.crm.models import Lead
from closedloop.demo import synth, truth
from closedloop.engagement.models import Touchpoint

_CAMPAIGN_ID = re.compile(r"^demo:(\d+):(\d+)$")
_ASSET_URL = re.compile(r"^https://" + re.escape(synth.DEMO_DOMAIN) + r"/content/(\d+)/")


class NoDemoLoaded(LookupError):
    pass


@dataclass(frozen=True)
class DemoTruth:
    seed: int
    propensity: dict[int, float]  # lead id -> P(reach SQL), see truth.py
    campaign_quality: dict[int, float]  # campaign id -> odds multiplier
    asset_effectiveness: dict[int, float]  # content asset id -> win log-odds
    rep_follow_up_minutes: dict[int, float]  # rep user id -> median minutes to first touch


def demo_truth() -> DemoTruth:
    """The loaded demo's hidden truth, recomputed from the stored rows.

    Reads every lead and marketing touch (about a minute at 1M leads / 10M touches).
    Raises NoDemoLoaded when the campaigns are not the demo's.
    """
    seed, campaign_index = _campaign_indexes()
    hidden = truth.hidden_parameters(
        seed, campaigns=synth.CAMPAIGN_COUNT, assets=synth.ASSET_COUNT, reps=len(synth.REP_SEATS)
    )
    quality = {pk: float(hidden.campaign_quality[i]) for pk, i in campaign_index.items()}
    effect = {pk: float(hidden.asset_effectiveness[i]) for pk, i in _asset_indexes().items()}
    reps = dict(
        User.objects.filter(email__in=[s.email for s in synth.REP_SEATS]).values_list("email", "pk")
    )
    follow_up = {
        reps[s.email]: float(hidden.rep_follow_up_minutes[i])
        for i, s in enumerate(synth.REP_SEATS)
        if s.email in reps
    }
    return DemoTruth(seed, _propensities(quality, effect), quality, effect, follow_up)


def true_propensities() -> dict[int, float]:
    """{lead id: true propensity} of the loaded demo company."""
    return demo_truth().propensity


def _campaign_indexes() -> tuple[int, dict[int, int]]:
    seeds, indexes = set(), {}
    for pk, external_id in Campaign.objects.values_list("pk", "external_id"):
        match = _CAMPAIGN_ID.match(external_id)
        if match:
            seeds.add(int(match[1]))
            indexes[pk] = int(match[2])
    if len(seeds) != 1:
        raise NoDemoLoaded("no demo company is loaded (run `closedloop demo`)")
    return seeds.pop(), indexes


def _asset_indexes() -> dict[int, int]:
    indexes = {}
    for pk, url in ContentAsset.objects.values_list("pk", "url"):
        match = _ASSET_URL.match(url)
        if match:
            indexes[pk] = int(match[1])
    return indexes


def _propensities(quality: dict[int, float], effect: dict[int, float]) -> dict[int, float]:
    ids, p = _propensity_arrays(quality, effect, None, with_ids=True)
    return dict(zip(ids.tolist(), p.tolist(), strict=True))


def _propensity_arrays(quality, effect, without_channel, *, with_ids=False):
    """Every lead's true propensity (ordered by id); `without_channel`: as if that channel's
    marketing touches had never happened."""
    leads = list(
        Lead.objects.order_by("pk")
        .values_list(
            "pk",
            "industry",
            "employees",
            "seniority",
            "country",
            "email",
            "created_at",
            "original_campaign_id",
        )
        .iterator(chunk_size=20_000)
    )
    if not leads:
        empty = np.zeros(0)
        return (empty.astype(np.int64), empty) if with_ids else empty
    pk, industry, employees, seniority, country, email, created, campaign = zip(*leads, strict=True)
    ids = np.array(pk, dtype=np.int64)
    # Views of links reps shared during deals are sales touches for the truth (sharing.py).
    marketing = Touchpoint.objects.filter(
        lead__isnull=False, type__in=truth.MARKETING_TOUCH_TYPES
    ).exclude(properties__has_key="share_link")
    if without_channel is not None:
        marketing = marketing.exclude(channel=without_channel)
    touches = list(
        marketing.values_list("lead_id", "type", "content_id", "occurred_at").iterator(
            chunk_size=50_000
        )
    )
    t_lead, t_type, t_content, t_at = zip(*touches, strict=True) if touches else ((),) * 4
    fit = truth.fit_logit(
        industry=_obj(industry),
        employees=[e or 0 for e in employees],
        seniority=_obj(seniority),
        country=_obj(country),
        email=_obj(email),
    )
    asset_effect = np.array([effect.get(c, 0.0) if c else 0.0 for c in t_content])
    engagement = truth.engagement_logit(
        n_leads=len(ids),
        touch_lead=np.searchsorted(ids, np.array(t_lead, dtype=np.int64)),
        touch_weight=truth.touch_weight(_obj(t_type), asset_effect),
        touch_at=_epoch(t_at),
        lead_created_at=_epoch(created),
    )
    multiplier = np.array([quality.get(c, 1.0) if c else 1.0 for c in campaign])
    p = truth.true_propensity(fit=fit, engagement=engagement, campaign_quality=multiplier)
    return (ids, p) if with_ids else p


def _obj(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _epoch(datetimes) -> np.ndarray:
    return np.array([int(d.timestamp()) for d in datetimes], dtype=np.int64)


def true_channel_effects() -> dict[str, float]:
    """{channel: expected SQLs the channel's touches cause}, from the hidden truth.

    A channel's true effect is its removal effect on the truth itself: the sum over leads of
    P(SQL) with every marketing touch minus P(SQL) without that channel's touches (the lead's
    fit and original campaign unchanged). Channels are the touchpoints' own `channel`; sales
    touches weigh nothing in the truth and are left out. Attribution models that find causes
    rather than positions should rank channels the way these effects do.
    """
    truth_now = demo_truth()
    base = _propensity_arrays(truth_now.campaign_quality, truth_now.asset_effectiveness, None)
    channels = (
        Touchpoint.objects.filter(lead__isnull=False, type__in=truth.MARKETING_TOUCH_TYPES)
        .exclude(channel="")
        .values_list("channel", flat=True)
        .distinct()
    )
    found = {}
    for channel in sorted(set(channels)):
        without = _propensity_arrays(
            truth_now.campaign_quality, truth_now.asset_effectiveness, channel
        )
        found[channel] = float(base.sum() - without.sum())
    return found
