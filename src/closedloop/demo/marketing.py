"""Demo phases: the campaigns (with costs and reach) and the content assets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo import names
from closedloop.demo.arrays import Table, month_label, obj, slug
from closedloop.demo.catalog import (
    ASSET_COUNT,
    ASSET_KINDS,
    ASSET_TITLE,
    ASSET_URL,
    CAMPAIGN_COUNT,
    CAMPAIGN_LABEL,
    CAMPAIGN_TYPES,
    COMPETITORS,
    DAY,
    HISTORY_DAYS,
    INDUSTRY_SHARE,
    PERSONAS,
)

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder


def campaigns(b: Builder) -> None:
    rng = b.streams[0]
    kinds = np.array([k for k, spec in CAMPAIGN_TYPES.items() for _ in range(spec[0])], object)
    kinds = rng.permutation(kinds)
    slots = np.linspace(0, HISTORY_DAYS - 25, CAMPAIGN_COUNT)
    start_day = np.clip(slots + rng.uniform(-5, 5, CAMPAIGN_COUNT), 0, None).astype(np.int64)
    duration = np.array([CAMPAIGN_TYPES[k][3] for k in kinds])
    cost = np.array([rng.uniform(*CAMPAIGN_TYPES[k][4]) for k in kinds]).round(-2)
    themes = rng.choice(len(names.THEMES), CAMPAIGN_COUNT)
    starts = b.start + start_day * DAY
    months = np.datetime_as_string(starts.astype("datetime64[s]"), unit="M")
    name = [
        f"{names.THEMES[t]} {CAMPAIGN_LABEL[k]} ({month_label(m)})"
        for t, k, m in zip(themes, kinds, months, strict=True)
    ]
    audience = [
        f"{rng.choice(['VPs and directors', 'Practitioners', 'C-level buyers', 'Managers'])}"
        f" in {rng.choice(list(INDUSTRY_SHARE))},"
        f" {rng.choice(['50–200', '200–1,000', '1,000+'])} employees"
        for _ in kinds
    ]
    message = [
        f"{names.THEMES[t]} without the busywork: see results in the first 30 days, "
        "backed by customers in your industry."
        for t in themes
    ]
    b.campaign_kind = kinds
    b.campaign_start = starts
    b.campaign_end = starts + duration * DAY
    growth = 1.0 + start_day / HISTORY_DAYS
    b.campaign_reach = np.array([CAMPAIGN_TYPES[k][5] for k in kinds]) * np.sqrt(duration) * growth
    b.campaign_quality = b.hidden.campaign_quality
    b.tables["campaign"] = Table(
        "campaigns.Campaign",
        {
            "id": np.arange(1, CAMPAIGN_COUNT + 1),
            "name": obj(name),
            "type": kinds,
            "channel": obj(CAMPAIGN_TYPES[k][1] for k in kinds),
            "starts_on": starts,
            "ends_on": b.campaign_end,
            "cost": cost,
            "currency": obj("USD" for _ in kinds),
            "audience": obj(audience),
            "message": obj(message),
            "owner_id": b.marketer_ids[rng.integers(0, len(b.marketer_ids), CAMPAIGN_COUNT)],
            "external_id": obj(f"demo:{b.seed}:{i}" for i in range(CAMPAIGN_COUNT)),
            "created_at": starts - 14 * DAY + 9 * 3600,
        },
    )


def assets(b: Builder) -> None:
    rng = b.streams[1]
    kinds = np.array(list(ASSET_KINDS), dtype=object)[np.arange(ASSET_COUNT) % len(ASSET_KINDS)]
    themes = (np.arange(ASSET_COUNT) * 5) % len(names.THEMES)
    industries = list(INDUSTRY_SHARE)
    titles, urls, industry = [], [], []
    for i, (kind, theme) in enumerate(zip(kinds, themes, strict=True)):
        ind = industries[rng.integers(0, 6)] if rng.random() < 0.3 else ""
        title = ASSET_TITLE[kind].format(
            theme=names.THEMES[theme].lower(),
            industry=ind or "growing teams",
            company=f"{names.COMPANY_PREFIXES[i]} {names.COMPANY_CORES[i]}",
            competitor=COMPETITORS[i % len(COMPETITORS)],
        )
        titles.append(title[0].upper() + title[1:])
        urls.append(ASSET_URL.format(index=i, slug=slug(title)[:60]))
        industry.append(ind)
    popularity = 1.0 / (1.0 + rng.permutation(ASSET_COUNT)) ** 0.9
    # Most collateral is hardly ever used (the "70% never used" of context/).
    popularity[rng.random(ASSET_COUNT) < 0.3] *= 0.02
    b.asset_popularity = popularity / popularity.sum()
    b.asset_effect = b.hidden.asset_effectiveness
    created = b.start + rng.integers(0, HISTORY_DAYS - 30, ASSET_COUNT) * DAY + 10 * 3600
    b.tables["asset"] = Table(
        "content.ContentAsset",
        {
            "id": np.arange(1, ASSET_COUNT + 1),
            "title": obj(titles),
            "kind": kinds,
            "url": obj(urls),
            "description": obj(
                f"{t}. For {ASSET_KINDS[k].upper()}-stage conversations."
                for t, k in zip(titles, kinds, strict=True)
            ),
            "persona": np.array(PERSONAS, dtype=object)[
                rng.integers(0, len(PERSONAS), ASSET_COUNT)
            ],
            "stage": obj(ASSET_KINDS[k] for k in kinds),
            "industry": obj(industry),
            "owner_id": b.marketer_ids[rng.integers(0, len(b.marketer_ids), ASSET_COUNT)],
            "status": np.full(ASSET_COUNT, "published", dtype=object),
            "published_at": created,
            "created_at": created,
            "updated_at": created + rng.integers(0, 60, ASSET_COUNT) * DAY,
        },
    )
