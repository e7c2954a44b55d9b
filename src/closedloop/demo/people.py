"""Demo phases: accounts and the leads who work at them (firmographics, arrival times)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo import names, truth
from closedloop.demo.arrays import choice, dedupe, obj, phones
from closedloop.demo.catalog import (
    CAMPAIGN_COUNT,
    CAMPAIGN_TYPES,
    COUNTRY_SHARE,
    DAY,
    HISTORY_DAYS,
    INDUSTRY_SHARE,
    ORGANIC_SOURCES,
    SENIORITY_SHARE,
    TEAMS,
    WEST_COUNTRIES,
)

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder


def accounts(b: Builder) -> None:
    rng = b.streams[2]
    count = max(40, round(b.n / 4.5))
    industry = choice(rng, INDUSTRY_SHARE, count)
    country = choice(rng, COUNTRY_SHARE, count)
    employees = np.clip(rng.lognormal(np.log(180), 1.4, count), 3, 150_000).astype(np.int64)
    prefix = np.array(names.COMPANY_PREFIXES, object)[
        rng.integers(0, len(names.COMPANY_PREFIXES), count)
    ]
    core = np.array(names.COMPANY_CORES, object)[rng.integers(0, len(names.COMPANY_CORES), count)]
    pick = rng.integers(0, 4, count)
    suffix = obj(names.COMPANY_SUFFIXES[ind][k] for ind, k in zip(industry, pick, strict=True))
    name = prefix + " " + core + " " + suffix
    stem = dedupe(obj((p + c + s).lower() for p, c, s in zip(prefix, core, suffix, strict=True)))
    domain = stem + "." + obj(names.TLDS[c] for c in country)
    revenue = (employees * rng.lognormal(np.log(150_000), 0.4, count)).round(-3)
    team = np.where(
        employees >= 2000,
        "Enterprise",
        np.where(
            np.isin(country, WEST_COUNTRIES) | ((country == "US") & (rng.random(count) < 0.5)),
            "West",
            "East",
        ),
    )
    owner_rep = np.empty(count, dtype=np.int64)
    for t in TEAMS:
        mask = team == t
        seats = np.flatnonzero(b.rep_team == t)
        owner_rep[mask] = seats[rng.integers(0, len(seats), mask.sum())]
    b.account = dict(
        count=count,
        industry=industry,
        country=country,
        employees=employees,
        name=name,
        domain=domain,
        owner_rep=owner_rep,
        pattern=rng.integers(0, 4, count),
        weight=employees**0.5,
    )
    b.account_revenue = revenue


def leads(b: Builder) -> None:
    rng, n, acc = b.streams[3], b.n, b.account
    account = rng.choice(acc["count"], n, p=acc["weight"] / acc["weight"].sum())
    created, campaign = _creation_times(b, rng, n)
    order = np.argsort(created, kind="stable")  # ids in the order leads arrived
    created, campaign = created[order], campaign[order]
    source, subscriber = _sources(b, rng, campaign)
    person = _people(b, rng, account)
    b.lead = dict(
        account=account,
        created=created,
        campaign=campaign,
        source=source,
        subscriber=subscriber,
        **person,
        industry=acc["industry"][account],
        company=acc["name"][account],
    )
    b.fit = truth.fit_logit(
        industry=b.lead["industry"],
        employees=person["employees"],
        seniority=person["seniority"],
        country=person["country"],
        email=person["email"],
    )


def _sources(
    b: Builder, rng: np.random.Generator, campaign: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's source (its campaign's, else an organic one) and whether it only subscribed."""
    n, kinds = len(campaign), b.campaign_kind
    organic = choice(rng, ORGANIC_SOURCES, n)
    by_campaign = obj(CAMPAIGN_TYPES[k][2] for k in kinds)[np.maximum(campaign, 0)]
    source = np.where(campaign >= 0, by_campaign, organic)
    subscriber = ((source == "email") & (rng.random(n) < 0.5)) | (
        (source == "organic_search") & (rng.random(n) < 0.25)
    )
    return source, subscriber


def _people(b: Builder, rng: np.random.Generator, account: np.ndarray) -> dict[str, np.ndarray]:
    """Who each lead is: seniority, title, name, email, where they are, their company's size."""
    n, acc = len(account), b.account
    seniority, title = _titles(rng, n)
    first = np.array(names.FIRST_NAMES, object)[rng.integers(0, len(names.FIRST_NAMES), n)]
    last = np.array(names.LAST_NAMES, object)[rng.integers(0, len(names.LAST_NAMES), n)]
    employees = acc["employees"][account]
    personal = rng.random(n) < np.where(employees < 50, 0.2, 0.08)
    email = _emails(b, rng, first, last, account, personal)
    country = acc["country"][account]
    city, phone = _places(rng, country)
    return dict(
        seniority=seniority,
        title=title,
        first=first,
        last=last,
        email=email,
        country=country,
        city=city,
        phone=phone,
        employees=employees,
    )


def _titles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    seniority = choice(rng, SENIORITY_SHARE, n)
    department = rng.integers(0, len(names.DEPARTMENTS), n)
    title = np.empty(n, dtype=object)
    for s, titles in names.TITLES.items():
        mask = seniority == s
        title[mask] = np.array(titles, dtype=object)[department[mask]]
    return seniority, title


def _places(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A city in each lead's country, and a phone number for about two in three."""
    city = np.empty(len(country), dtype=object)
    for c, cities in names.CITIES.items():
        mask = country == c
        city[mask] = np.array(cities, object)[rng.integers(0, len(cities), mask.sum())]
    has_phone = rng.random(len(country)) < 0.65
    digits = rng.integers(200_000_0000, 999_999_9999, len(country))
    return city, phones(country, digits, has_phone)


def _creation_times(b: Builder, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    from_campaign = rng.random(n) < 0.62
    campaign = np.where(
        from_campaign,
        rng.choice(CAMPAIGN_COUNT, n, p=b.campaign_reach / b.campaign_reach.sum()),
        -1,
    )
    c = np.maximum(campaign, 0)
    # A campaign still running today has brought its leads only up to today.
    end = np.minimum(b.campaign_end[c], b.as_of)
    span = np.maximum(end - b.campaign_start[c], DAY) * rng.beta(1.0, 2.0, n)
    in_campaign = b.campaign_start[c] + span
    growth = 1.5  # lead volume grows over the two years: density 1 + growth * x
    u = rng.random(n)
    x = (-1 + np.sqrt(1 + 2 * growth * u * (1 + growth / 2))) / growth
    organic = b.start + x * HISTORY_DAYS * DAY
    created = np.where(from_campaign, in_campaign, organic)
    day = np.floor(created / DAY)
    hour = np.clip(rng.normal(14, 3.5, n), 0, 23.99)
    created = day * DAY + hour * 3600 + rng.integers(0, 3600, n)
    weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
    to_monday = (weekday >= 5) & (rng.random(n) < 0.75)
    created = created + np.where(to_monday, (7 - weekday) * DAY, 0)
    return _before(created.astype(np.int64), b.as_of - 3600), campaign


def _before(created: np.ndarray, limit: int) -> np.ndarray:
    """Times after `limit` (a Monday shift past today) move back whole weeks: clamping them
    to one instant made a spike of hundreds of leads created in the same second."""
    weeks = np.ceil(np.maximum(created - limit, 0) / (7 * DAY)).astype(np.int64)
    return np.asarray(created - weeks * 7 * DAY)


def _emails(
    b: Builder,
    rng: np.random.Generator,
    first: np.ndarray,
    last: np.ndarray,
    account: np.ndarray,
    personal: np.ndarray,
) -> np.ndarray:
    f = np.strings.lower(first.astype(str))
    la = np.strings.lower(last.astype(str))
    pattern = b.account["pattern"][account]
    local = np.select(
        [pattern == 0, pattern == 1, pattern == 2],
        [
            np.strings.add(np.strings.add(f, "."), la),
            np.strings.add(np.strings.slice(f, 0, 1), la),
            f,
        ],
        np.strings.add(f, np.strings.slice(la, 0, 1)),
    )
    nn = rng.integers(10, 99, len(first)).astype(str)
    personal_local = np.where(
        rng.random(len(first)) < 0.6,
        np.strings.add(np.strings.add(np.strings.add(f, "."), la), nn),
        np.strings.add(np.strings.add(f, "."), la),
    )
    domains = np.array(names.PERSONAL_DOMAINS)[
        rng.choice(5, len(first), p=[0.55, 0.15, 0.15, 0.1, 0.05])
    ]
    work = b.account["domain"][account].astype(str)
    address = np.where(
        personal,
        np.strings.add(np.strings.add(personal_local, "@"), domains),
        np.strings.add(np.strings.add(local.astype(str), "@"), work),
    )
    return dedupe(address.astype(object), lambda s, k: s.replace("@", f"{k}@", 1))
