"""What the demo company is made of: shares, campaign types, touch kinds, reasons and the people.

Constants only; the drawing happens in the phase modules (`people`, `marketing`, `touches`,
`funnel`, `records`) that `synth` runs in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    "email": TouchType.EMAIL_CLICK.value,
    "event": TouchType.EVENT.value,
    "webinar": TouchType.WEBINAR.value,
    "outbound": TouchType.EMAIL_CLICK.value,
}  # every other source: a form fill

HIGH_INTENT = {
    TouchType.FORM.value: 0.15,
    TouchType.WEBINAR.value: 0.12,
    TouchType.CONTENT_VIEW.value: 0.38,
    TouchType.EVENT.value: 0.08,
    TouchType.EMAIL_CLICK.value: 0.27,
}
LOW_INTENT = {
    TouchType.PAGE_VIEW.value: 0.55,
    TouchType.EMAIL_OPEN.value: 0.35,
    TouchType.AD_CLICK.value: 0.10,
}
# Every kind a demo touch can be: the vocabulary's marketing and sales touch types, in order.
TOUCH_KINDS = tuple(str(t) for t in (*MARKETING_TOUCH_TYPES, *SALES_TOUCH_TYPES))
KIND = {k: i for i, k in enumerate(TOUCH_KINDS)}
TOUCH_CHANNEL = {
    TouchType.PAGE_VIEW.value: "web",
    TouchType.EMAIL_OPEN.value: "email",
    TouchType.EMAIL_CLICK.value: "email",
    TouchType.FORM.value: "web",
    TouchType.WEBINAR.value: "web",
    TouchType.AD_CLICK.value: "search",
    TouchType.CONTENT_VIEW.value: "web",
    TouchType.EVENT.value: "events",
    TouchType.SALES_CALL.value: "sales",
    TouchType.MEETING.value: "sales",
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


def seat(name: str, role: str, team: str = "") -> Seat:
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
        seat(n, "rep", "East")
        for n in ("Sam Patel", "Jordan Kim", "Taylor Reed", "Casey Nguyen", "Morgan Silva")
    ),
    *(
        seat(n, "rep", "West")
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
        seat(n, "rep", "Enterprise")
        for n in ("Cameron Wright", "Avery Jansen", "Hayden Costa", "Logan Meyer")
    ),
)
MANAGER_SEATS = (
    LOGIN_SEATS[2],
    seat("Dana Ellis", "manager", "West"),
    seat("Robin Hart", "manager", "Enterprise"),
)
MARKETING_SEATS = (
    LOGIN_SEATS[1],
    seat("Lena Fischer", "marketing"),
    seat("Omar Haddad", "marketing"),
)
ROSTER = tuple(dict.fromkeys((*LOGIN_SEATS, *REP_SEATS, *MANAGER_SEATS, *MARKETING_SEATS)))
