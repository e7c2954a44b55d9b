"""The demo company as columns of NumPy arrays. Pure: no Django, no database.

`generate_company(...)` returns one `Table` per model, each a dict of column name -> array,
with ids assigned from 1 (the loader writes into empty tables). Conventions of the arrays:
datetimes and dates are int64 epoch seconds (NULL_TIME for NULL), foreign keys and other
integers are int64 (-1 for NULL), text is an object array of str (None for NULL), JSON is
already serialised text. Users are given as ids in roster order (`ROSTER`).

Everything is drawn from one seed, phase by phase, so the same seed and lead count give the
same company. The outcomes come from `closedloop.demo.truth`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from closedloop.demo import names, truth
from closedloop.vocabulary import MARKETING_TOUCH_TYPES, SALES_TOUCH_TYPES, TouchType

NULL_TIME = np.iinfo(np.int64).min
DAY = 86400
HISTORY_DAYS = 730
CAMPAIGN_COUNT = 60
ASSET_COUNT = 40
DEMO_DOMAIN = "demo.closedloop.test"
ASSET_URL = "https://" + DEMO_DOMAIN + "/content/{index}/{slug}"

INDUSTRY_SHARE = {
    "Software": 0.2,
    "Financial services": 0.12,
    "Healthcare": 0.11,
    "Manufacturing": 0.1,
    "Retail": 0.09,
    "Education": 0.07,
    "Media": 0.06,
    "Logistics": 0.06,
    "Professional services": 0.06,
    "Telecommunications": 0.04,
    "Energy": 0.04,
    "Government": 0.03,
    "Nonprofit": 0.02,
}
COUNTRY_SHARE = {
    "US": 0.38,
    "GB": 0.11,
    "DE": 0.08,
    "IN": 0.08,
    "CA": 0.06,
    "FR": 0.06,
    "BR": 0.05,
    "AU": 0.05,
    "NL": 0.03,
    "ES": 0.03,
    "JP": 0.03,
    "SG": 0.02,
    "MX": 0.02,
}
SENIORITY_SHARE = {
    "Individual contributor": 0.34,
    "Manager": 0.3,
    "Director": 0.16,
    "VP": 0.11,
    "C-level": 0.09,
}
SENIORITY_RANK = {"C-level": 0, "VP": 1, "Director": 2, "Manager": 3, "Individual contributor": 4}
WEST_COUNTRIES = ("CA", "BR", "MX", "AU", "JP", "SG")

# Campaign type -> (count, channel, lead source, duration days, cost range, reach weight).
CAMPAIGN_TYPES = {
    "webinar": (10, "web", "webinar", 30, (4_000, 12_000), 0.8),
    "email": (14, "email", "email", 14, (500, 3_000), 1.0),
    "paid_search": (8, "search", "paid_search", 90, (15_000, 60_000), 1.3),
    "paid_social": (8, "social", "social", 60, (10_000, 40_000), 1.1),
    "content": (8, "web", "organic_search", 180, (5_000, 20_000), 1.2),
    "event": (6, "events", "event", 10, (20_000, 90_000), 0.9),
    "partner": (3, "partners", "partner", 120, (5_000, 25_000), 0.5),
    "outbound": (3, "sales", "outbound", 45, (8_000, 20_000), 0.5),
}
CAMPAIGN_LABEL = {
    "webinar": "webinar",
    "email": "email nurture",
    "paid_search": "search ads",
    "paid_social": "LinkedIn ads",
    "content": "content hub",
    "event": "summit booth",
    "partner": "partner co-marketing",
    "outbound": "outbound sequence",
}
ORGANIC_SOURCES = {
    "organic_search": 0.4,
    "direct": 0.2,
    "referral": 0.2,
    "social": 0.1,
    "partner": 0.05,
    "other": 0.05,
}
SOURCE_LABEL = {
    "organic_search": "organic search",
    "paid_search": "paid search",
    "social": "social",
    "email": "email",
    "referral": "referral",
    "event": "event",
    "webinar": "webinar",
    "partner": "partner",
    "outbound": "sales outbound",
    "direct": "direct",
    "other": "other",
}
CREATION_TOUCH = {
    "email": "email_click",
    "event": "event",
    "webinar": "webinar",
    "outbound": "email_click",
}  # every other source: a form fill

HIGH_INTENT = {
    "form": 0.15,
    "webinar": 0.12,
    "content_view": 0.38,
    "event": 0.08,
    "email_click": 0.27,
}
LOW_INTENT = {"page_view": 0.55, "email_open": 0.35, "ad_click": 0.10}
# Every kind a demo touch can be: the vocabulary's marketing and sales touch types, in order.
TOUCH_KINDS = tuple(str(t) for t in (*MARKETING_TOUCH_TYPES, *SALES_TOUCH_TYPES))
KIND = {k: i for i, k in enumerate(TOUCH_KINDS)}
TOUCH_CHANNEL = {
    "page_view": "web",
    "email_open": "email",
    "email_click": "email",
    "form": "web",
    "webinar": "web",
    "ad_click": "search",
    "content_view": "web",
    "event": "events",
    "sales_call": "sales",
    "meeting": "sales",
}

ASSET_KINDS = {
    "case_study": "lead",
    "whitepaper": "mql",
    "ebook": "lead",
    "deck": "opportunity",
    "one_pager": "sql",
    "battlecard": "opportunity",
    "video": "lead",
    "blog": "lead",
    "webinar": "mql",
}
ASSET_TITLE = {
    "case_study": "Case study: how {company} tackled {theme}",
    "whitepaper": "Whitepaper: the {theme} playbook",
    "ebook": "E-book: {theme} for {industry}",
    "deck": "Sales deck: {theme}",
    "one_pager": "One-pager: {theme} in numbers",
    "battlecard": "Battlecard: {theme} against {competitor}",
    "video": "Video: {theme} in five minutes",
    "blog": "Blog: seven {theme} mistakes",
    "webinar": "Webinar recording: {theme} live",
}
COMPETITORS = ("Acme Cloud", "Initech", "Globex", "Umbrella Analytics", "Hooli")
PERSONAS = ("executive", "technical", "practitioner", "finance", "")

LOST_REASONS = ("price", "competitor", "no_budget", "no_decision", "timing", "product_fit")
WRONG_FIT = (
    "Wrong fit: company too small",
    "Wrong fit: student or personal interest",
    "Wrong fit: no use case",
    "Wrong fit: works for a competitor",
)
NOT_NOW = (
    "Not now: revisit next quarter",
    "Not now: budget frozen until next year",
    "Not now: evaluating after a reorganisation",
)


@dataclass(frozen=True)
class Seat:
    """A user of the demo company. `login` users get a password printed once."""

    email: str
    first_name: str
    last_name: str
    role: str
    team: str = ""
    login: bool = False


def _seat(name: str, role: str, team: str = "") -> Seat:
    first, last = name.split()
    return Seat(f"{first}.{last}@{DEMO_DOMAIN}".lower(), first, last, role, team)


TEAMS = ("East", "West", "Enterprise")
LOGIN_SEATS = (
    Seat(f"admin@{DEMO_DOMAIN}", "Avery", "Admin", "admin", "", True),
    Seat(f"marketing@{DEMO_DOMAIN}", "Morgan", "Lane", "marketing", "", True),
    Seat(f"manager@{DEMO_DOMAIN}", "Max", "Walker", "manager", "East", True),
    Seat(f"rep@{DEMO_DOMAIN}", "Riley", "Brooks", "rep", "East", True),
    Seat(f"executive@{DEMO_DOMAIN}", "Evelyn", "Stone", "executive", "", True),
)
REP_SEATS = (
    LOGIN_SEATS[3],
    *(
        _seat(n, "rep", "East")
        for n in ("Sam Patel", "Jordan Kim", "Taylor Reed", "Casey Nguyen", "Morgan Silva")
    ),
    *(
        _seat(n, "rep", "West")
        for n in (
            "Alex Rivera",
            "Jamie Fox",
            "Drew Tanaka",
            "Quinn Murphy",
            "Parker Hughes",
            "Reese Okafor",
        )
    ),
    *(
        _seat(n, "rep", "Enterprise")
        for n in ("Cameron Wright", "Avery Jansen", "Hayden Costa", "Logan Meyer")
    ),
)
MANAGER_SEATS = (
    LOGIN_SEATS[2],
    _seat("Dana Ellis", "manager", "West"),
    _seat("Robin Hart", "manager", "Enterprise"),
)
MARKETING_SEATS = (
    LOGIN_SEATS[1],
    _seat("Lena Fischer", "marketing"),
    _seat("Omar Haddad", "marketing"),
)
ROSTER = tuple(dict.fromkeys((*LOGIN_SEATS, *REP_SEATS, *MANAGER_SEATS, *MARKETING_SEATS)))


@dataclass
class Table:
    model: str  # app_label.ModelName
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


@dataclass
class Company:
    seed: int
    as_of: int
    tables: dict[str, Table]
    hidden: truth.HiddenParameters
    propensity: np.ndarray  # per lead, in lead id order


def _choice(rng, shares: dict, size: int) -> np.ndarray:
    keys = np.array(list(shares), dtype=object)
    p = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=p / p.sum())]


def _codes(rng, shares: dict, size: int) -> np.ndarray:
    """Touch kind codes (KIND) drawn with the given shares of kind names."""
    codes = np.array([KIND[k] for k in shares], dtype=np.int8)
    p = np.array(list(shares.values()), dtype=float)
    return codes[rng.choice(len(codes), size=size, p=p / p.sum())]


def _obj(values) -> np.ndarray:
    values = list(values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _dedupe(strings: np.ndarray, joiner=lambda s, n: f"{s}{n}") -> np.ndarray:
    """Make strings unique by numbering the second and later copies."""
    _, inverse, counts = np.unique(strings.astype(str), return_inverse=True, return_counts=True)
    if counts.max(initial=1) == 1:
        return strings
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    occurrence = np.empty(len(strings), dtype=np.int64)
    occurrence[order] = np.arange(len(strings)) - starts[inverse[order]]
    out = strings.copy()
    for i in np.flatnonzero(occurrence):
        out[i] = joiner(strings[i], occurrence[i] + 1)
    return out


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


class _Builder:
    """Builds the company phase by phase; each phase has its own random stream."""

    def __init__(self, *, leads: int, seed: int, as_of: int, users: dict[str, int]):
        self.n = leads
        self.seed = seed
        self.as_of = as_of
        self.start = as_of - HISTORY_DAYS * DAY
        self.streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(12)]
        self.rep_ids = np.array([users[s.email] for s in REP_SEATS], dtype=np.int64)
        self.rep_team = np.array([s.team for s in REP_SEATS], dtype=object)
        self.marketer_ids = np.array([users[s.email] for s in MARKETING_SEATS], dtype=np.int64)
        self.hidden = truth.hidden_parameters(
            seed, campaigns=CAMPAIGN_COUNT, assets=ASSET_COUNT, reps=len(REP_SEATS)
        )
        self.tables: dict[str, Table] = {}

    # -- campaigns and content ---------------------------------------------------------------
    def campaigns(self) -> None:
        rng = self.streams[0]
        kinds = np.array([k for k, spec in CAMPAIGN_TYPES.items() for _ in range(spec[0])], object)
        kinds = rng.permutation(kinds)
        slots = np.linspace(0, HISTORY_DAYS - 25, CAMPAIGN_COUNT)
        start_day = np.clip(slots + rng.uniform(-5, 5, CAMPAIGN_COUNT), 0, None).astype(np.int64)
        duration = np.array([CAMPAIGN_TYPES[k][3] for k in kinds])
        cost = np.array([rng.uniform(*CAMPAIGN_TYPES[k][4]) for k in kinds]).round(-2)
        themes = rng.choice(len(names.THEMES), CAMPAIGN_COUNT)
        starts = self.start + start_day * DAY
        months = np.datetime_as_string(starts.astype("datetime64[s]"), unit="M")
        name = [
            f"{names.THEMES[t]} {CAMPAIGN_LABEL[k]} ({_month_label(m)})"
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
        self.campaign_kind = kinds
        self.campaign_start = starts
        self.campaign_end = starts + duration * DAY
        growth = 1.0 + start_day / HISTORY_DAYS
        self.campaign_reach = (
            np.array([CAMPAIGN_TYPES[k][5] for k in kinds]) * np.sqrt(duration) * growth
        )
        self.campaign_quality = self.hidden.campaign_quality
        self.tables["campaign"] = Table(
            "campaigns.Campaign",
            {
                "id": np.arange(1, CAMPAIGN_COUNT + 1),
                "name": _obj(name),
                "type": kinds,
                "channel": _obj(CAMPAIGN_TYPES[k][1] for k in kinds),
                "starts_on": starts,
                "ends_on": self.campaign_end,
                "cost": cost,
                "audience": _obj(audience),
                "message": _obj(message),
                "owner_id": self.marketer_ids[
                    rng.integers(0, len(self.marketer_ids), CAMPAIGN_COUNT)
                ],
                "external_id": _obj(f"demo:{self.seed}:{i}" for i in range(CAMPAIGN_COUNT)),
                "created_at": starts - 14 * DAY + 9 * 3600,
            },
        )

    def assets(self) -> None:
        rng = self.streams[1]
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
            urls.append(ASSET_URL.format(index=i, slug=_slug(title)[:60]))
            industry.append(ind)
        popularity = 1.0 / (1.0 + rng.permutation(ASSET_COUNT)) ** 0.9
        # Most collateral is hardly ever used (the "70% never used" of context/).
        popularity[rng.random(ASSET_COUNT) < 0.3] *= 0.02
        self.asset_popularity = popularity / popularity.sum()
        self.asset_effect = self.hidden.asset_effectiveness
        created = self.start + rng.integers(0, HISTORY_DAYS - 30, ASSET_COUNT) * DAY + 10 * 3600
        self.tables["asset"] = Table(
            "content.ContentAsset",
            {
                "id": np.arange(1, ASSET_COUNT + 1),
                "title": _obj(titles),
                "kind": kinds,
                "url": _obj(urls),
                "description": _obj(
                    f"{t}. For {ASSET_KINDS[k].upper()}-stage conversations."
                    for t, k in zip(titles, kinds, strict=True)
                ),
                "persona": np.array(PERSONAS, dtype=object)[
                    rng.integers(0, len(PERSONAS), ASSET_COUNT)
                ],
                "stage": _obj(ASSET_KINDS[k] for k in kinds),
                "industry": _obj(industry),
                "owner_id": self.marketer_ids[rng.integers(0, len(self.marketer_ids), ASSET_COUNT)],
                "created_at": created,
                "updated_at": created + rng.integers(0, 60, ASSET_COUNT) * DAY,
            },
        )

    # -- accounts and leads --------------------------------------------------------------------
    def accounts(self) -> None:
        rng = self.streams[2]
        count = max(40, round(self.n / 4.5))
        industry = _choice(rng, INDUSTRY_SHARE, count)
        country = _choice(rng, COUNTRY_SHARE, count)
        employees = np.clip(rng.lognormal(np.log(180), 1.4, count), 3, 150_000).astype(np.int64)
        prefix = np.array(names.COMPANY_PREFIXES, object)[
            rng.integers(0, len(names.COMPANY_PREFIXES), count)
        ]
        core = np.array(names.COMPANY_CORES, object)[
            rng.integers(0, len(names.COMPANY_CORES), count)
        ]
        pick = rng.integers(0, 4, count)
        suffix = _obj(names.COMPANY_SUFFIXES[ind][k] for ind, k in zip(industry, pick, strict=True))
        name = prefix + " " + core + " " + suffix
        stem = _dedupe(
            _obj((p + c + s).lower() for p, c, s in zip(prefix, core, suffix, strict=True))
        )
        domain = stem + "." + _obj(names.TLDS[c] for c in country)
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
            seats = np.flatnonzero(self.rep_team == t)
            owner_rep[mask] = seats[rng.integers(0, len(seats), mask.sum())]
        self.account = dict(
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
        self.account_revenue = revenue

    def leads(self) -> None:
        rng, n, acc = self.streams[3], self.n, self.account
        account = rng.choice(acc["count"], n, p=acc["weight"] / acc["weight"].sum())
        created, campaign = self._creation_times(rng, n)
        order = np.argsort(created, kind="stable")  # ids in the order leads arrived
        created, campaign = created[order], campaign[order]
        kinds = self.campaign_kind
        organic = _choice(rng, ORGANIC_SOURCES, n)
        source = np.where(
            campaign >= 0,
            _obj(CAMPAIGN_TYPES[k][2] for k in kinds)[np.maximum(campaign, 0)],
            organic,
        )
        subscriber = ((source == "email") & (rng.random(n) < 0.5)) | (
            (source == "organic_search") & (rng.random(n) < 0.25)
        )
        seniority = _choice(rng, SENIORITY_SHARE, n)
        department = rng.integers(0, len(names.DEPARTMENTS), n)
        title_table = {s: np.array(t, dtype=object) for s, t in names.TITLES.items()}
        title = np.empty(n, dtype=object)
        for s, titles in title_table.items():
            mask = seniority == s
            title[mask] = titles[department[mask]]
        first = np.array(names.FIRST_NAMES, object)[rng.integers(0, len(names.FIRST_NAMES), n)]
        last = np.array(names.LAST_NAMES, object)[rng.integers(0, len(names.LAST_NAMES), n)]
        employees = acc["employees"][account]
        personal = rng.random(n) < np.where(employees < 50, 0.2, 0.08)
        email = self._emails(rng, first, last, account, personal)
        country = acc["country"][account]
        city = np.empty(n, dtype=object)
        for c, cities in names.CITIES.items():
            mask = country == c
            city[mask] = np.array(cities, object)[rng.integers(0, len(cities), mask.sum())]
        has_phone = rng.random(n) < 0.65
        digits = rng.integers(200_000_0000, 999_999_9999, n)
        phone = _phones(country, digits, has_phone)
        self.lead = dict(
            account=account,
            created=created,
            campaign=campaign,
            source=source,
            subscriber=subscriber,
            seniority=seniority,
            title=title,
            first=first,
            last=last,
            email=email,
            country=country,
            city=city,
            phone=phone,
            employees=employees,
            industry=acc["industry"][account],
            company=acc["name"][account],
        )
        self.fit = truth.fit_logit(
            industry=self.lead["industry"],
            employees=employees,
            seniority=seniority,
            country=country,
            email=email,
        )

    def _creation_times(self, rng, n: int) -> tuple[np.ndarray, np.ndarray]:
        from_campaign = rng.random(n) < 0.62
        campaign = np.where(
            from_campaign,
            rng.choice(CAMPAIGN_COUNT, n, p=self.campaign_reach / self.campaign_reach.sum()),
            -1,
        )
        c = np.maximum(campaign, 0)
        span = (self.campaign_end[c] - self.campaign_start[c]) * rng.beta(1.0, 2.0, n)
        in_campaign = self.campaign_start[c] + span
        growth = 1.5  # lead volume grows over the two years: density 1 + growth * x
        u = rng.random(n)
        x = (-1 + np.sqrt(1 + 2 * growth * u * (1 + growth / 2))) / growth
        organic = self.start + x * HISTORY_DAYS * DAY
        created = np.where(from_campaign, in_campaign, organic)
        day = np.floor(created / DAY)
        hour = np.clip(rng.normal(14, 3.5, n), 0, 23.99)
        created = day * DAY + hour * 3600 + rng.integers(0, 3600, n)
        weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
        to_monday = (weekday >= 5) & (rng.random(n) < 0.75)
        created = created + np.where(to_monday, (7 - weekday) * DAY, 0)
        created = np.minimum(created, self.as_of - 3600).astype(np.int64)
        return created, campaign

    def _emails(self, rng, first, last, account, personal) -> np.ndarray:
        f = np.strings.lower(first.astype(str))
        la = np.strings.lower(last.astype(str))
        pattern = self.account["pattern"][account]
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
        work = self.account["domain"][account].astype(str)
        address = np.where(
            personal,
            np.strings.add(np.strings.add(personal_local, "@"), domains),
            np.strings.add(np.strings.add(local.astype(str), "@"), work),
        )
        return _dedupe(address.astype(object), lambda s, k: s.replace("@", f"{k}@", 1))

    # -- touches and truth ---------------------------------------------------------------------
    def touches(self) -> None:
        rng, n, lead = self.streams[4], self.n, self.lead
        fit_z = (self.fit - self.fit.mean()) / (self.fit.std() or 1.0)
        z = 0.95 * rng.standard_normal(n) + 0.3 * fit_z
        count = 1 + rng.poisson(np.exp(np.log(9.3) + 0.55 * z - 0.151))
        owner = np.repeat(np.arange(n), count)
        first = np.concatenate([[0], np.cumsum(count)[:-1]])
        is_first = np.zeros(len(owner), dtype=bool)
        is_first[first] = True
        trend = rng.normal(0, 0.7, n)
        fraction = rng.beta(np.exp(trend)[owner], np.exp(-trend)[owner])
        offset = np.where(is_first, 0, (fraction * truth.HORIZON_DAYS * DAY).astype(np.int64))
        at = lead["created"][owner] + offset
        hi = rng.random(len(owner)) < truth.sigmoid(-1.3 + 0.9 * z)[owner]
        kind = np.where(
            hi, _codes(rng, HIGH_INTENT, len(owner)), _codes(rng, LOW_INTENT, len(owner))
        )
        kind[first] = [KIND[CREATION_TOUCH.get(s, "form")] for s in lead["source"]]
        keep = at <= self.as_of
        owner, at, kind, is_first = owner[keep], at[keep], kind[keep], is_first[keep]
        order = np.lexsort((at, owner))
        owner, at, kind, is_first = owner[order], at[order], kind[order], is_first[order]
        campaign = self._touch_campaigns(rng, owner, at, kind, is_first)
        asset = self._touch_assets(rng, kind)
        effect = np.where(asset >= 0, self.asset_effect[np.maximum(asset, 0)], 0.0)
        weight = truth.touch_weight(kind, effect, categories=TOUCH_KINDS)
        engagement = truth.engagement_logit(
            n_leads=n,
            touch_lead=owner,
            touch_weight=weight,
            touch_at=at,
            lead_created_at=lead["created"],
        )
        quality = np.where(
            lead["campaign"] >= 0, self.campaign_quality[np.maximum(lead["campaign"], 0)], 1.0
        )
        self.propensity = truth.true_propensity(
            fit=self.fit, engagement=engagement, campaign_quality=quality
        )
        self.touch = dict(
            lead=owner, at=at, kind=kind, campaign=campaign, asset=asset, is_first=is_first
        )
        self.touch_count = np.bincount(owner, minlength=n)

    def _touch_campaigns(self, rng, owner, at, kind, is_first) -> np.ndarray:
        day = ((at - self.start) // DAY).astype(np.int64)
        u = rng.random(len(owner))
        campaign = np.full(len(owner), -1, dtype=np.int64)
        groups = {
            "email_open": ("email",),
            "email_click": ("email",),
            "ad_click": ("paid_search", "paid_social"),
            "webinar": ("webinar",),
            "event": ("event",),
            "content_view": ("content",),
            "form": ("content", "webinar"),
        }
        for touch_kind, types in groups.items():
            mask = kind == KIND[touch_kind]
            if touch_kind in (TouchType.CONTENT_VIEW, TouchType.FORM):
                mask &= rng.random(len(owner)) < 0.5
            campaign[mask] = self._active(types, day[mask], u[mask])
        original = self.lead["campaign"][owner]
        page = (kind == KIND["page_view"]) & (rng.random(len(owner)) < 0.15)
        campaign[page] = original[page]
        campaign[is_first] = original[is_first]
        return campaign

    def _active(self, types: tuple[str, ...], day: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A campaign of one of `types` running on each day (-1 where none was)."""
        span = HISTORY_DAYS + truth.HORIZON_DAYS + 2
        members: list[list[Any]] = [[] for _ in range(span)]
        for c in np.flatnonzero(np.isin(self.campaign_kind, types)):
            first = (self.campaign_start[c] - self.start) // DAY
            last = (self.campaign_end[c] - self.start) // DAY
            for d in range(max(first, 0), min(last + 1, span)):
                members[d].append(c)
        width = max(1, max(len(m) for m in members))
        table = np.full((span, width), -1, dtype=np.int64)
        counts = np.zeros(span, dtype=np.int64)
        for d, m in enumerate(members):
            table[d, : len(m)] = m
            counts[d] = len(m)
        day = np.clip(day, 0, span - 1)
        slot = np.minimum((u * counts[day]).astype(np.int64), np.maximum(counts[day] - 1, 0))
        return np.where(counts[day] > 0, table[day, slot], -1)

    def _touch_assets(self, rng, kind) -> np.ndarray:
        asset = np.full(len(kind), -1, dtype=np.int64)
        mask = (kind == KIND[TouchType.CONTENT_VIEW]) | (
            (kind == KIND["email_click"]) & (rng.random(len(kind)) < 0.25)
        )
        asset[mask] = rng.choice(ASSET_COUNT, mask.sum(), p=self.asset_popularity)
        return asset

    # -- the funnel ----------------------------------------------------------------------------
    def funnel(self) -> None:
        rng, n, t, as_of = self.streams[5], self.n, self.touch, self.as_of
        p = self.propensity
        pm = truth.mql_probability(p)
        first = np.searchsorted(t["lead"], np.arange(n))
        mql_at = t["at"][first + (self.touch_count - 1) // 2] + rng.integers(60, 3600, n)
        rep = self.account["owner_rep"][self.lead["account"]]
        delay = rng.lognormal(np.log(self.hidden.rep_follow_up_minutes[rep]), truth.FOLLOW_UP_SIGMA)
        worked = delay < truth.NEVER_FOLLOWED_MINUTES
        first_touch = mql_at + (delay * 60).astype(np.int64)
        draw_mql = rng.random(n) < pm
        p_sql = np.clip(p / pm * truth.speed_multiplier(delay), 0, 1)
        draw_sql = draw_mql & worked & (rng.random(n) < p_sql)
        accepted = draw_sql | (worked & (rng.random(n) < 0.45))
        draw_opp = draw_sql & (rng.random(n) < 0.78)
        sal_at = first_touch + (rng.uniform(0.2, 3, n) * DAY).astype(np.int64)
        sql_at = sal_at + ((rng.exponential(6, n) + 0.5) * DAY).astype(np.int64)
        opp_at = sql_at + ((rng.exponential(4, n) + 0.2) * DAY).astype(np.int64)
        exit_at = first_touch + ((rng.exponential(12, n) + 1) * DAY).astype(np.int64)
        exit_at = np.where(accepted, np.maximum(exit_at, sal_at + 3600), exit_at)
        mql = draw_mql & (mql_at <= as_of)
        sal = mql & accepted & (sal_at <= as_of)
        sql = sal & draw_sql & (sql_at <= as_of)
        self.flow = dict(
            rep=rep,
            delay=delay,
            worked=worked,
            draw_sql=draw_sql,
            mql_at=mql_at,
            first_touch=first_touch,
            sal_at=sal_at,
            sql_at=sql_at,
            opp_at=opp_at,
            exit_at=exit_at,
            accepted=accepted,
            mql=mql,
            sal=sal,
            sql=sql,
            opp=sql & draw_opp & (opp_at <= as_of),
            worked_exit=mql & worked & ~draw_sql & (exit_at <= as_of),
            disqualify=rng.random(n) < truth.sigmoid(-1.2 * self.fit - 0.8),
            unworked_exit=mql & ~worked & (mql_at + 30 * DAY <= as_of),
            sql_exit=sql & ~draw_opp,
            sql_exit_at=sql_at + ((rng.exponential(20, n) + 1) * DAY).astype(np.int64),
            promote_at=self._promotion_times(mql_at, draw_mql),
        )
        f = self.flow
        f["sql_exit"] &= f["sql_exit_at"] <= as_of

    def _promotion_times(self, mql_at, draw_mql) -> np.ndarray:
        """When a subscriber became a lead: their first later form, or just before MQL."""
        t, never = self.touch, np.iinfo(np.int64).max
        forms = np.flatnonzero((t["kind"] == KIND["form"]) & ~t["is_first"])
        leads, index = np.unique(t["lead"][forms], return_index=True)
        form_at = np.full(self.n, never, dtype=np.int64)
        form_at[leads] = t["at"][forms[index]]
        promote = np.minimum(form_at, np.where(draw_mql, mql_at - 60, never))
        return np.where(self.lead["subscriber"], promote, never)

    def opportunities(self) -> None:
        rng, f, acc, as_of = self.streams[6], self.flow, self.account, self.as_of
        leads = np.flatnonzero(f["opp"])
        leads = leads[np.lexsort((f["opp_at"][leads], self.lead["account"][leads]))]
        account = self.lead["account"]
        cycle = np.clip(
            rng.lognormal(np.log(40), 0.5, len(leads))
            * (acc["employees"][account[leads]] / 200) ** 0.15,
            7,
            365,
        )
        group = np.empty(len(leads), dtype=np.int64)
        opp_account: list[int] = []
        opp_created: list[int] = []
        opp_close: list[int] = []
        for i, lead in enumerate(leads):
            # A contact joins the account's open deal, or opens a new one.
            if (
                opp_account
                and opp_account[-1] == account[lead]
                and f["opp_at"][lead] <= opp_close[-1]
            ):
                group[i] = len(opp_account) - 1
                continue
            group[i] = len(opp_account)
            opp_account.append(account[lead])
            opp_created.append(f["opp_at"][lead])
            opp_close.append(f["opp_at"][lead] + int(cycle[i] * DAY))
        count = len(opp_account)
        opp_accounts = np.array(opp_account, dtype=np.int64)
        created = np.array(opp_created, dtype=np.int64)
        close = np.array(opp_close, dtype=np.int64)
        mean_fit = np.bincount(group, weights=self.fit[leads], minlength=count) / np.maximum(
            np.bincount(group, minlength=count), 1
        )
        content = self._content_effect(leads, group, close, count)
        first_member = np.unique(group, return_index=True)[1] if count else np.zeros(0, np.int64)
        campaign = self.lead["campaign"][leads[first_member]] if count else np.zeros(0, np.int64)
        quality = np.where(campaign >= 0, self.campaign_quality[np.maximum(campaign, 0)], 1.0)
        won = rng.random(count) < truth.win_probability(
            mean_fit=mean_fit, content_effect=content, campaign_quality=quality
        )
        closed = close <= as_of
        elapsed = (as_of - created) / np.maximum(close - created, 1)
        stage = np.where(
            closed,
            np.where(won, "won", "lost"),
            np.where(
                elapsed < 0.4, "discovery", np.where(elapsed < 0.75, "proposal", "negotiation")
            ),
        ).astype(object)
        employees = acc["employees"][opp_accounts]
        lost_weights = np.stack(
            [
                np.full(count, 1.0),
                np.full(count, 1.2),
                np.where(employees < 100, 1.5, 0.4),
                np.full(count, 1.0),
                np.full(count, 0.8),
                np.where(mean_fit < 0, 1.6, 0.3),
            ],
            axis=1,
        )
        reason = np.array(LOST_REASONS, dtype=object)[
            (
                lost_weights.cumsum(1) / lost_weights.sum(1, keepdims=True) < rng.random((count, 1))
            ).sum(1)
        ]
        amount = (6000 * (employees / 50) ** 0.45 * rng.lognormal(0, 0.35, count)).round(-2)
        product = np.array(names.OPPORTUNITY_PRODUCTS, object)[
            rng.integers(0, len(names.OPPORTUNITY_PRODUCTS), count)
        ]
        self.opp = dict(
            count=count,
            leads=leads,
            group=group,
            account=opp_accounts,
            created=created,
            close=close,
            closed=closed,
            won=won & closed,
            lost=~won & closed,
            stage=stage,
            reason=reason,
        )
        owner = self.rep_ids[acc["owner_rep"][opp_accounts]]
        self.tables["opportunity"] = Table(
            "crm.Opportunity",
            {
                "id": np.arange(1, count + 1),
                "version": np.ones(count, dtype=np.int64),
                "created_at": created,
                "updated_at": np.where(closed, close, created),
                "account_id": opp_accounts + 1,
                "name": acc["name"][opp_accounts] + " – " + product,
                "amount": amount,
                "stage": stage,
                "close_date": close,
                "closed_at": np.where(closed, close, NULL_TIME),
                "lost_reason": np.where(stage == "lost", reason, "").astype(object),
                "owner_id": owner,
                "campaign_id": np.where(campaign >= 0, campaign + 1, -1),
            },
        )
        self._opportunity_contacts(leads, group)

    def _content_effect(self, leads, group, close, count) -> np.ndarray:
        """Summed effectiveness of the distinct assets each deal's contacts viewed before close."""
        t = self.touch
        member = np.full(self.n, -1, dtype=np.int64)
        member[leads] = group
        views = np.flatnonzero(
            (t["asset"] >= 0)
            & (t["kind"] == KIND[TouchType.CONTENT_VIEW])
            & (member[t["lead"]] >= 0)
        )
        deal = member[t["lead"][views]]
        views, deal = views[t["at"][views] <= close[deal]], deal[t["at"][views] <= close[deal]]
        pairs = np.unique(deal * ASSET_COUNT + t["asset"][views])
        return np.bincount(
            pairs // ASSET_COUNT, weights=self.asset_effect[pairs % ASSET_COUNT], minlength=count
        )

    def _opportunity_contacts(self, leads, group) -> None:
        rank = _obj(self.lead["seniority"][leads])
        rank = np.array([SENIORITY_RANK[s] for s in rank], dtype=np.int64)
        order = np.lexsort((rank, group))
        position = np.empty(len(leads), dtype=np.int64)
        starts = np.searchsorted(group[order], group[order])
        position[order] = np.arange(len(leads)) - starts
        role = np.where(
            position == 0,
            np.where(rank <= 2, "decision_maker", "champion"),
            np.where(position == 1, "champion", np.where(rank == 4, "user", "influencer")),
        ).astype(object)
        self.tables["opportunity_contact"] = Table(
            "crm.OpportunityContact",
            {
                "id": np.arange(1, len(leads) + 1),
                "opportunity_id": group + 1,
                "lead_id": leads + 1,
                "role": role,
            },
        )

    # -- rep activities and sales touches ------------------------------------------------------
    def activities(self) -> None:
        rng, f, as_of = self.streams[7], self.flow, self.as_of
        worked = np.flatnonzero(f["mql"] & f["worked"] & (f["first_touch"] <= as_of))
        phase_end = np.where(f["accepted"], f["sal_at"], f["exit_at"])[worked]
        persistence = np.where(
            self.hidden.rep_follow_up_minutes < 30,
            3.0,
            np.where(self.hidden.rep_follow_up_minutes < 300, 2.0, 1.0),
        )
        attempts = 1 + rng.poisson(persistence[f["rep"][worked]])
        lead = np.repeat(worked, attempts)
        start = np.concatenate([[0], np.cumsum(attempts)[:-1]])
        gap = (rng.exponential(1.5, len(lead)) * DAY).astype(np.int64)
        gap[start] = 0
        cumulative = np.cumsum(gap) - np.repeat(np.cumsum(gap)[start] - gap[start], attempts)
        at = f["first_touch"][lead] + cumulative
        keep = (at < np.repeat(phase_end, attempts)) | (cumulative == 0)
        lead, at = lead[keep], at[keep]
        call = rng.random(len(lead)) < 0.6
        kind = np.where(call, "call", "email").astype(object)
        outcome = np.where(
            call,
            _choice(rng, {"no_answer": 0.5, "left_message": 0.35, "connected": 0.15}, len(lead)),
            "",
        ).astype(object)
        notes = np.where(
            outcome == "connected",
            "Short call: asked for more information",
            np.where(call, "Tried to reach", "Follow-up email sent"),
        ).astype(object)
        parts = [(lead, at, kind, outcome, notes)]
        milestones = (
            (
                "sal",
                "sal_at",
                -600,
                "call",
                np.where(f["draw_sql"], "meeting_booked", "connected"),
                "Connected: interested, booked a meeting",
            ),
            (
                "sql",
                "sql_at",
                -1800,
                "meeting",
                "connected",
                "Discovery meeting: budget, authority, need and timeline confirmed",
            ),
            ("opp", "opp_at", -1800, "meeting", "connected", "Solution presentation"),
        )
        for flag, when, shift, act, result, note in milestones:
            idx = np.flatnonzero(f[flag])
            result = np.broadcast_to(np.asarray(result, dtype=object), (self.n,))[idx]
            parts.append(
                (
                    idx,
                    f[when][idx] + shift,
                    np.full(len(idx), act, object),
                    result,
                    np.full(len(idx), note, object),
                )
            )
        exits = np.flatnonzero(f["worked_exit"])
        dq = f["disqualify"][exits]
        parts.append(
            (
                exits,
                f["exit_at"][exits] - 600,
                np.full(len(exits), "call", object),
                np.where(dq, "not_interested", "connected").astype(object),
                np.where(dq, "Not a fit", "Asked to reconnect later").astype(object),
            )
        )
        lead, at, kind, outcome, notes = (np.concatenate(c) for c in zip(*parts, strict=True))
        keep = at <= as_of
        lead, at, kind, outcome, notes = (
            lead[keep],
            at[keep],
            kind[keep],
            outcome[keep],
            notes[keep],
        )
        order = np.lexsort((at, lead))
        lead, at, kind, outcome, notes = (
            lead[order],
            at[order],
            kind[order],
            outcome[order],
            notes[order],
        )
        self.activity = dict(lead=lead, at=at, kind=kind, outcome=outcome)
        count = len(lead)
        self.tables["activity"] = Table(
            "crm.Activity",
            {
                "id": np.arange(1, count + 1),
                "lead_id": lead + 1,
                "rep_id": self.rep_ids[f["rep"][lead]],
                "kind": kind,
                "outcome": outcome,
                "notes": notes,
                "at": at,
            },
        )

    def touch_table(self) -> None:
        t, a = self.touch, self.activity
        sales = (a["kind"] == "meeting") | (
            (a["kind"] == "call") & (a["outcome"] != "no_answer") & (a["outcome"] != "left_message")
        )
        lead = np.concatenate([t["lead"], a["lead"][sales]])
        at = np.concatenate([t["at"], a["at"][sales]])
        kind = np.concatenate(
            [
                t["kind"],
                np.where(a["kind"][sales] == "meeting", KIND["meeting"], KIND["sales_call"]),
            ]
        )
        campaign = np.concatenate([t["campaign"], np.full(sales.sum(), -1)])
        asset = np.concatenate([t["asset"], np.full(sales.sum(), -1)])
        order = np.lexsort((at, lead))
        lead, at, kind, campaign, asset = (x[order] for x in (lead, at, kind, campaign, asset))
        count = len(lead)
        kinds = self.campaign_kind
        channel = np.array([TOUCH_CHANNEL[k] for k in TOUCH_KINDS], dtype=object)[kind]
        paid = (kind == KIND["ad_click"]) & (campaign >= 0)
        channel[paid] = np.where(kinds[campaign[paid]] == "paid_social", "social", "search")
        self.tables["touchpoint"] = Table(
            "engagement.Touchpoint",
            {
                "id": np.arange(1, count + 1),
                "lead_id": lead + 1,
                "type": np.array(TOUCH_KINDS, dtype=object)[kind],
                "channel": channel,
                "campaign_id": np.where(campaign >= 0, campaign + 1, -1),
                "content_id": np.where(asset >= 0, asset + 1, -1),
                "occurred_at": at,
                "received_at": at,
                "properties": self._properties(kind),
            },
        )

    def _properties(self, kind: np.ndarray) -> np.ndarray:
        rng = self.streams[8]
        options: dict[str, list[dict[str, Any]]] = {
            "page_view": [{"path": p} for p in names.PAGE_PATHS],
            "form": [{"form": f} for f in names.FORMS],
            "ad_click": [{"utm_source": s} for s in ("google", "linkedin", "bing")],
            "webinar": [{"attended_minutes": m} for m in (15, 30, 45, 60)],
            "content_view": [{"seconds": s} for s in (20, 45, 90, 180, 400)],
            "sales_call": [{"logged_by": "rep"}],
        }
        out = np.full(len(kind), "{}", dtype=object)
        for touch_kind, values in options.items():
            mask = kind == KIND[touch_kind]
            encoded = np.array([json.dumps(v) for v in values], dtype=object)
            out[mask] = encoded[rng.integers(0, len(values), mask.sum())]
        return out

    # -- stage history and the leads table ----------------------------------------------------
    def stage_history(self) -> None:
        f, lead, rng, n = self.flow, self.lead, self.streams[9], self.n
        rep_id = self.rep_ids[f["rep"]]
        outbound = lead["source"] == "outbound"
        initial = np.where(lead["subscriber"], "subscriber", "lead").astype(object)
        created_reason = _obj(f"Created: {SOURCE_LABEL[s]}" for s in lead["source"])
        opp = self.opp
        won = np.zeros(n, bool)
        lost = np.zeros(n, bool)
        close_at = np.zeros(n, np.int64)
        lost_reason = np.full(n, "", dtype=object)
        won[opp["leads"]] = opp["won"][opp["group"]]
        lost[opp["leads"]] = opp["lost"][opp["group"]]
        close_at[opp["leads"]] = opp["close"][opp["group"]]
        lost_reason[opp["leads"]] = opp["reason"][opp["group"]]
        dq = f["disqualify"]
        not_now = np.array(NOT_NOW, dtype=object)[rng.integers(0, len(NOT_NOW), n)]
        wrong_fit = np.array(WRONG_FIT, dtype=object)[rng.integers(0, len(WRONG_FIT), n)]
        lost_label = {
            "price": "price",
            "competitor": "chose a competitor",
            "no_budget": "no budget",
            "no_decision": "no decision",
            "timing": "bad timing",
            "product_fit": "product fit",
            "": "",
        }
        steps = [
            # (which leads, to stage, when, by, reason)
            (
                np.ones(n, bool),
                initial,
                lead["created"],
                np.where(outbound, rep_id, -1),
                created_reason,
            ),
            (
                lead["subscriber"] & (f["promote_at"] <= self.as_of),
                "lead",
                f["promote_at"],
                -1,
                "Filled in a form",
            ),
            (f["mql"], "mql", f["mql_at"], -1, "MQL rule: engagement and fit thresholds met"),
            (f["sal"], "sal", f["sal_at"], rep_id, "Accepted by sales"),
            (
                f["sql"],
                "sql",
                f["sql_at"],
                rep_id,
                "Qualified: budget, authority, need and timeline confirmed",
            ),
            (f["opp"], "opportunity", f["opp_at"], rep_id, "Opportunity opened"),
            (won, "customer", close_at, rep_id, "Closed won"),
            (
                lost,
                "recycled",
                close_at,
                rep_id,
                _obj("Opportunity lost: " + lost_label[r] for r in lost_reason),
            ),
            (f["worked_exit"] & dq, "disqualified", f["exit_at"], rep_id, wrong_fit),
            (f["worked_exit"] & ~dq, "recycled", f["exit_at"], rep_id, not_now),
            (
                f["unworked_exit"],
                "recycled",
                f["mql_at"] + 30 * DAY,
                -1,
                "Not followed up within 30 days: back to nurture",
            ),
            (f["sql_exit"], "recycled", f["sql_exit_at"], rep_id, not_now),
        ]
        cols: dict[str, list[Any]] = {k: [] for k in ("lead", "to", "at", "by", "reason", "step")}
        for number, (mask, to, at, by, reason) in enumerate(steps):
            idx = np.flatnonzero(mask)
            cols["lead"].append(idx)
            cols["to"].append(np.broadcast_to(np.asarray(to, dtype=object), (n,))[idx])
            cols["at"].append(np.asarray(at)[idx])
            cols["by"].append(np.broadcast_to(np.asarray(by, dtype=np.int64), (n,))[idx])
            cols["reason"].append(np.broadcast_to(np.asarray(reason, dtype=object), (n,))[idx])
            cols["step"].append(np.full(len(idx), number))
        c = {k: np.concatenate(v) for k, v in cols.items()}
        order = np.lexsort((c["step"], c["at"], c["lead"]))
        c = {k: v[order] for k, v in c.items()}
        previous = np.concatenate([[""], c["to"][:-1]]).astype(object)
        first_of_lead = np.concatenate([[True], c["lead"][1:] != c["lead"][:-1]])
        previous[first_of_lead] = ""
        last_of_lead = np.concatenate([c["lead"][1:] != c["lead"][:-1], [True]])
        self.final_stage = np.empty(n, dtype=object)
        self.final_stage[c["lead"][last_of_lead]] = c["to"][last_of_lead]
        self.last_change_at = np.zeros(n, np.int64)
        self.last_change_at[c["lead"][last_of_lead]] = c["at"][last_of_lead]
        count = len(c["lead"])
        self.tables["stage_change"] = Table(
            "crm.StageChange",
            {
                "id": np.arange(1, count + 1),
                "lead_id": c["lead"] + 1,
                "from_stage": previous,
                "to_stage": c["to"],
                "at": c["at"],
                "by_id": c["by"],
                "reason": c["reason"],
                "rule_version": np.full(count, -1),
            },
        )

    def lead_table(self) -> None:
        f, lead, n = self.flow, self.lead, self.n
        stage = self.final_stage
        a = self.activity
        touched = np.zeros(n, bool)
        touched[a["lead"]] = True
        connected = np.zeros(n, bool)
        connected[a["lead"][np.isin(a["outcome"], ["connected", "meeting_booked"])]] = True
        last_activity = np.zeros(n, np.int64)
        np.maximum.at(last_activity, a["lead"], a["at"])
        status = np.select(
            [
                np.isin(stage, ["sql", "opportunity", "customer"]),
                stage == "recycled",
                stage == "disqualified",
                stage == "sal",
                (stage == "mql") & connected,
                (stage == "mql") & touched,
            ],
            ["qualified", "nurture", "unqualified", "connected", "connected", "attempting"],
            "new",
        ).astype(object)
        outbound = lead["source"] == "outbound"
        owned = f["mql"] | outbound
        mql_at = np.where(f["mql"], f["mql_at"], NULL_TIME)
        assigned = np.where(outbound, lead["created"], f["mql_at"] + 300)
        self.tables["account"] = self._account_table()
        self.tables["lead"] = Table(
            "crm.Lead",
            {
                "id": np.arange(1, n + 1),
                "version": np.ones(n, dtype=np.int64),
                "created_at": lead["created"],
                "updated_at": np.maximum.reduce(
                    [lead["created"], self.last_change_at, last_activity]
                ),
                "first_name": lead["first"],
                "last_name": lead["last"],
                "email": lead["email"],
                "phone": lead["phone"],
                "title": lead["title"],
                "seniority": lead["seniority"],
                "company": lead["company"],
                "account_id": lead["account"] + 1,
                "industry": lead["industry"],
                "employees": lead["employees"],
                "country": lead["country"],
                "city": lead["city"],
                "lifecycle_stage": stage,
                "status": status,
                "owner_id": np.where(owned, self.rep_ids[f["rep"]], -1),
                "source": lead["source"],
                "original_campaign_id": np.where(lead["campaign"] >= 0, lead["campaign"] + 1, -1),
                "mql_at": mql_at,
                "assigned_at": np.where(owned, assigned, NULL_TIME),
                "first_touched_at": np.where(
                    touched, np.where(f["mql"], f["first_touch"], NULL_TIME), NULL_TIME
                ),
                "recycle_at": np.where(
                    stage == "recycled", self.last_change_at + 90 * DAY, NULL_TIME
                ),
            },
        )

    def _account_table(self) -> Table:
        acc, rng = self.account, self.streams[10]
        first_lead = np.full(acc["count"], self.as_of - DAY, dtype=np.int64)
        np.minimum.at(first_lead, self.lead["account"], self.lead["created"])
        created = first_lead - rng.integers(60, 2 * DAY, acc["count"])
        count = acc["count"]
        return Table(
            "crm.Account",
            {
                "id": np.arange(1, count + 1),
                "version": np.ones(count, dtype=np.int64),
                "created_at": created,
                "updated_at": created,
                "name": acc["name"],
                "domain": acc["domain"],
                "industry": acc["industry"],
                "employees": acc["employees"],
                "annual_revenue": self.account_revenue,
                "country": acc["country"],
                "owner_id": self.rep_ids[acc["owner_rep"]],
            },
        )


def generate_company(
    *, leads: int, seed: int, as_of: int, users: dict[str, int], progress=lambda phase: None
) -> Company:
    """Draw the whole company. `as_of` is the epoch second the history ends at (the demo's
    "now"); `users` maps every ROSTER email to its user id; `progress(phase)` is told what
    is being drawn. Returns the tables in a loadable order and the leads' true propensity."""
    builder = _Builder(leads=leads, seed=seed, as_of=as_of, users=users)
    phases = (
        ("campaigns", builder.campaigns),
        ("content assets", builder.assets),
        ("accounts", builder.accounts),
        ("leads", builder.leads),
        ("touchpoints", builder.touches),
        ("funnel", builder.funnel),
        ("opportunities", builder.opportunities),
        ("activities", builder.activities),
        ("sales touches", builder.touch_table),
        ("stage history", builder.stage_history),
        ("lead records", builder.lead_table),
    )
    for label, phase in phases:
        progress(label)
        phase()
    order = (
        "campaign",
        "asset",
        "account",
        "lead",
        "touchpoint",
        "stage_change",
        "activity",
        "opportunity",
        "opportunity_contact",
    )
    return Company(
        seed=seed,
        as_of=as_of,
        tables={k: builder.tables[k] for k in order},
        hidden=builder.hidden,
        propensity=builder.propensity,
    )


def _phones(country: np.ndarray, digits: np.ndarray, has_phone: np.ndarray) -> np.ndarray:
    """'+44 207 123 4567' from ten digits, vectorised (a Python f-string per lead is slow)."""
    prefix = np.array([names.PHONE_PREFIX[c] for c in country.tolist()])
    parts = (
        prefix,
        (digits // 10**7).astype(str),
        np.strings.zfill((digits // 10**4 % 1000).astype(str), 3),
        np.strings.zfill((digits % 10**4).astype(str), 4),
    )
    phone = parts[0]
    for part in parts[1:]:
        phone = np.strings.add(np.strings.add(phone, " "), part)
    return np.where(has_phone, phone, "").astype(object)


def _month_label(month: str) -> str:
    year, mon = month.split("-")
    return ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[int(mon) - 1]) + " " + year
