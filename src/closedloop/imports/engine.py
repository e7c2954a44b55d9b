"""Reading CRM exports: column recognition and value parsing (records: imports.reading).

Pure Python, no Django: the loaders in `closedloop.imports.loaders` feed it records and get back
plain dicts of our field names, or a list of (column, reason) errors per row.

Recognised exports:
- HubSpot contact, company and deal exports ("Record ID", "First Name", "Lifecycle Stage", ...),
  with HubSpot's internal values ("marketingqualifiedlead") and their labels ("Marketing
  Qualified Lead"); dates as "2024-01-15 10:23" or "2024-01-15".
- Salesforce lead, contact, account and opportunity reports ("Lead ID", "Lead Source",
  "No. of Employees", "Stage", ...), dates as "1/15/2024" or "1/15/2024, 10:23 AM".
- Generic files: our own field names and common synonyms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from closedloop.imports.reading import BrokenRecord
from closedloop.vocabulary import Stage, TouchType


class Kind(StrEnum):
    LEADS = "leads"
    ACCOUNTS = "accounts"
    OPPORTUNITIES = "opportunities"
    TOUCHPOINTS = "touchpoints"


class Format(StrEnum):
    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"
    GENERIC = "generic"


class BadValue(ValueError):
    """A cell that cannot be read; the message is the reason shown in the error CSV."""


# ---------------------------------------------------------------------------------------------
# Value parsers. Each takes the stripped cell text (never empty) and returns a value or raises
# BadValue. Empty cells never reach a parser: they mean "no value" and leave fields untouched.


def _key(text: str) -> str:
    """Lower-case letters and digits only: 'Marketing Qualified Lead' → 'marketingqualifiedlead'."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise BadValue(f"longer than {limit} characters")
        return value

    return parse


_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]{2,}$")


def email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value) or ".." in value:
        raise BadValue(f"bad email {value!r}")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


@functools.lru_cache(maxsize=4096)
def integer(value: str) -> int:
    """Counts such as employees: '1,200', '1200.0', a range '51-200' (its lower bound), '10000+'."""
    cleaned = value.replace(",", "").replace(" ", "").rstrip("+")
    if re.fullmatch(r"\d+\s*-\s*\d+", cleaned):
        # HubSpot's employee ranges: keep the bound the company certainly reaches.
        cleaned = cleaned.split("-")[0]
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise BadValue(f"not a whole number: {value!r}") from None
    if number < 0 or number != number.to_integral_value() or number > 2_000_000_000:
        raise BadValue(f"not a whole number ≥ 0: {value!r}")
    return int(number)


def money(value: str) -> Decimal:
    """Amounts: '$1,234.50', '1234.5 USD', '€ 900', '(120.00)' is refused (negative)."""
    cleaned = re.sub(r"[A-Za-z$€£¥\s,]", "", value)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise BadValue(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise BadValue(f"not an amount ≥ 0: {value!r}")
    return amount.quantize(Decimal("0.01"))


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d.%m.%Y",
    "%Y/%m/%d",
)
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y, %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y, %H:%M",
    "%d.%m.%Y %H:%M",
)


def moment(value: str) -> datetime:
    """A point in time in UTC: ISO 8601 (with or without offset), HubSpot's '2024-01-15 10:23',
    Salesforce's US '1/15/2024, 10:23 AM', a bare date (midnight UTC) or epoch milliseconds."""
    if value.isdigit() and len(value) == 13:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    iso = value.replace("Z", "+00:00") if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        parsed = _strptime(value, _DATETIME_FORMATS + _DATE_FORMATS)
    if not 1900 <= parsed.year <= 2200:
        # Placeholders such as 0001-01-01 are "no date", and wrong as any real one.
        raise BadValue(f"bad date {value!r} (year {parsed.year})")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def day(value: str) -> date:
    """A calendar date; a time part, if present, is dropped."""
    return moment(value).date() if not _looks_like_date_only(value) else _date_only(value)


def _looks_like_date_only(value: str) -> bool:
    return len(value) <= 10


def _date_only(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return _strptime(value, _DATE_FORMATS).date()


def _strptime(value: str, formats: tuple[str, ...]) -> datetime:
    for fmt in formats:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if parsed.year < 1900:
            break
        return parsed
    raise BadValue(f"bad date {value!r} (use YYYY-MM-DD or MM/DD/YYYY)")


def domain(value: str) -> str:
    """'https://www.Acme.com/about' → 'acme.com'."""
    host = re.sub(r"^[a-z]+://", "", value.strip().lower()).split("/")[0].split(":")[0]
    host = host.removeprefix("www.")
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host) or len(host) > 200:
        raise BadValue(f"not a web domain: {value!r}")
    return host


_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def choice(
    table: dict[str, str], what: str, *, default: str | None = None, codes: bool = False
) -> Callable[[str], str]:
    """A parser that maps labels and codes (compared by `_key`) to one of our values; with
    `codes`, a value it does not know that is written as a code (`site_visit`) passes as
    itself, for the loader to check against a list the company manages (pipeline stages,
    close reasons)."""

    @functools.lru_cache(maxsize=1024)  # exports repeat a handful of values a million times
    def parse(value: str) -> str:
        found = table.get(_key(value))
        if found is None and codes and _CODE.match(value.strip()):
            return value.strip()
        found = default if found is None else found
        if found is None:
            raise BadValue(f"unknown {what} {value!r}")
        return found

    return parse


def _table(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {
        _key(alias): str(target)
        for target, aliases in pairs.items()
        for alias in (target, *aliases)
    }


LIFECYCLE = _table(
    {
        Stage.SUBSCRIBER: ("Subscriber",),
        Stage.LEAD: ("Lead", "New lead"),
        Stage.MQL: ("marketingqualifiedlead", "Marketing Qualified Lead", "Marketing qualified"),
        Stage.SAL: ("salesacceptedlead", "Sales Accepted Lead", "Sales accepted"),
        Stage.SQL: ("salesqualifiedlead", "Sales Qualified Lead", "Sales qualified"),
        Stage.OPPORTUNITY: ("Opportunity",),
        Stage.CUSTOMER: ("Customer", "evangelist", "Evangelist"),
        Stage.RECYCLED: ("Recycled", "Nurture"),
        Stage.DISQUALIFIED: ("Disqualified", "Unqualified"),
    }
)

LEAD_STATUS = _table(
    {
        "new": ("NEW", "OPEN", "Open - Not Contacted", "Not contacted"),
        "attempting": (
            "ATTEMPTED_TO_CONTACT",
            "Attempted to contact",
            "IN_PROGRESS",
            "In progress",
            "Working - Contacted",
            "Working",
        ),
        "connected": ("CONNECTED", "OPEN_DEAL", "Open deal", "Contacted"),
        "qualified": ("Closed - Converted", "Converted", "Qualified"),
        "nurture": ("BAD_TIMING", "Bad timing", "Nurturing"),
        "unqualified": ("UNQUALIFIED", "Closed - Not Converted", "Not converted", "Disqualified"),
    }
)

LEAD_SOURCE = _table(
    {
        "organic_search": ("ORGANIC_SEARCH", "Organic Search", "Web", "SEO", "Search"),
        "paid_search": ("PAID_SEARCH", "Paid Search", "Advertisement", "PPC", "Google Ads"),
        "social": ("SOCIAL_MEDIA", "Organic Social", "PAID_SOCIAL", "Paid Social", "Social Media"),
        "email": ("EMAIL_MARKETING", "Email Marketing", "Email"),
        "referral": (
            "REFERRALS",
            "Referrals",
            "Employee Referral",
            "External Referral",
            "Word of mouth",
            "Referral",
        ),
        "event": ("Trade Show", "Event", "Conference", "OFFLINE", "Offline Sources"),
        "webinar": ("Seminar - Internal", "Seminar - Partner", "Webinar", "Seminar"),
        "partner": ("Partner", "Partner Referral"),
        "outbound": ("Purchased List", "Phone Inquiry", "Cold Call", "Outbound", "Sales outbound"),
        "direct": ("DIRECT_TRAFFIC", "Direct Traffic", "Direct"),
        "import": ("Import",),
        "other": (
            "OTHER_CAMPAIGNS",
            "Other Campaigns",
            "Other",
            "AI_REFERRALS",
            "Public Relations",
        ),
    }
)

OPPORTUNITY_STAGE = _table(
    {
        "discovery": (
            "appointmentscheduled",
            "Appointment Scheduled",
            "qualifiedtobuy",
            "Qualified To Buy",
            "Prospecting",
            "Qualification",
            "Needs Analysis",
            "Discovery",
        ),
        "proposal": (
            "presentationscheduled",
            "Presentation Scheduled",
            "decisionmakerboughtin",
            "Decision Maker Bought-In",
            "Value Proposition",
            "Id. Decision Makers",
            "Perception Analysis",
            "Proposal/Price Quote",
            "Proposal",
        ),
        "negotiation": ("contractsent", "Contract Sent", "Negotiation/Review", "Negotiation"),
        "won": ("closedwon", "Closed Won", "Won"),
        "lost": ("closedlost", "Closed Lost", "Lost"),
    }
)

LOST_REASON = _table(
    {
        "price": ("Price", "Too expensive"),
        "competitor": ("Competitor", "Lost to competitor", "Chose a competitor"),
        "no_budget": ("Budget", "No budget"),
        "no_decision": ("No decision", "No Decision / Non-Responsive", "Non-responsive"),
        "timing": ("Timing", "Bad timing"),
        "product_fit": ("Product fit", "Missing features", "Product"),
    }
)

TOUCHPOINT_TYPE = _table(
    {
        TouchType.PAGE_VIEW: ("Page view", "Pageview", "Page", "Visit"),
        TouchType.EMAIL_OPEN: ("Email open", "Email opened", "Open"),
        TouchType.EMAIL_CLICK: ("Email click", "Email clicked", "Click"),
        TouchType.FORM: ("Form fill", "Form submission", "Form submitted", "Form"),
        TouchType.WEBINAR: ("Webinar", "Webinar attended"),
        TouchType.AD_CLICK: ("Ad click", "Ad interaction"),
        TouchType.CONTENT_VIEW: ("Content viewed", "Content view", "Download"),
        TouchType.EVENT: ("Event", "Event visit", "Trade show visit"),
        TouchType.SALES_CALL: ("Call", "Sales call"),
        TouchType.MEETING: ("Meeting", "Meeting booked"),
        TouchType.OTHER: ("Other",),
    }
)

_COUNTRIES = {
    "US": ("United States", "United States of America", "USA", "U.S.", "U.S.A.", "America"),
    "GB": ("United Kingdom", "UK", "Great Britain", "England", "Scotland", "Wales"),
    "DE": ("Germany", "Deutschland"),
    "FR": ("France",),
    "CA": ("Canada",),
    "AU": ("Australia",),
    "NZ": ("New Zealand",),
    "IE": ("Ireland",),
    "NL": ("Netherlands", "The Netherlands", "Holland"),
    "BE": ("Belgium",),
    "LU": ("Luxembourg",),
    "ES": ("Spain",),
    "PT": ("Portugal",),
    "IT": ("Italy",),
    "CH": ("Switzerland",),
    "AT": ("Austria",),
    "SE": ("Sweden",),
    "NO": ("Norway",),
    "DK": ("Denmark",),
    "FI": ("Finland",),
    "IS": ("Iceland",),
    "PL": ("Poland",),
    "CZ": ("Czech Republic", "Czechia"),
    "HU": ("Hungary",),
    "RO": ("Romania",),
    "GR": ("Greece",),
    "TR": ("Turkey", "Türkiye"),
    "IL": ("Israel",),
    "AE": ("United Arab Emirates", "UAE"),
    "SA": ("Saudi Arabia",),
    "IN": ("India",),
    "CN": ("China",),
    "JP": ("Japan",),
    "KR": ("South Korea", "Korea"),
    "SG": ("Singapore",),
    "HK": ("Hong Kong",),
    "TW": ("Taiwan",),
    "MY": ("Malaysia",),
    "ID": ("Indonesia",),
    "PH": ("Philippines",),
    "TH": ("Thailand",),
    "VN": ("Vietnam",),
    "BR": ("Brazil", "Brasil"),
    "MX": ("Mexico",),
    "AR": ("Argentina",),
    "CL": ("Chile",),
    "CO": ("Colombia",),
    "PE": ("Peru",),
    "ZA": ("South Africa",),
    "NG": ("Nigeria",),
    "KE": ("Kenya",),
    "EG": ("Egypt",),
    "UA": ("Ukraine",),
    "EE": ("Estonia",),
    "LV": ("Latvia",),
    "LT": ("Lithuania",),
    "QA": ("Qatar",),
    "PK": ("Pakistan",),
    "BD": ("Bangladesh",),
    "LK": ("Sri Lanka",),
    "OM": ("Oman",),
}
_COUNTRY = {_key(name): code for code, names in _COUNTRIES.items() for name in names}


@functools.lru_cache(maxsize=1024)
def country(value: str) -> str:
    """An ISO 3166 alpha-2 code from a code or a common English name."""
    if len(value) == 2 and value.isalpha():
        return value.upper()
    found = _COUNTRY.get(_key(value))
    if found is None:
        raise BadValue(f"unknown country {value!r} (use a country name or its 2-letter code)")
    return found


# ---------------------------------------------------------------------------------------------
# Target fields per kind, and the column names each export uses for them.


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    parse: Callable[[str], object]


def _targets(*items: Target) -> dict[str, Target]:
    return {item.name: item for item in items}


_PERSON = (
    Target("external_id", "External id", text(100)),
    Target("first_name", "First name", text(100)),
    Target("last_name", "Last name", text(100)),
    Target("email", "Email", email),
    Target("phone", "Phone", text(40)),
    Target("title", "Job title", text(150)),
    Target("seniority", "Seniority", text(40)),
    Target("company", "Company", text(200)),
    Target("account_external_id", "Account (external id)", text(100)),
    Target("industry", "Industry", text(80)),
    Target("employees", "Employees", integer),
    Target("country", "Country", country),
    Target("city", "City", text(100)),
    Target("lifecycle_stage", "Lifecycle stage", choice(LIFECYCLE, "lifecycle stage")),
    Target("status", "Lead status", choice(LEAD_STATUS, "lead status")),
    Target("source", "Source", choice(LEAD_SOURCE, "source", default="other")),
    Target("owner", "Owner (email or name)", text(200)),
    Target("created_at", "Created", moment),
)

TARGETS: dict[Kind, dict[str, Target]] = {
    Kind.LEADS: _targets(*_PERSON),
    Kind.ACCOUNTS: _targets(
        Target("external_id", "External id", text(100)),
        Target("name", "Name", text(200)),
        Target("domain", "Domain / website", domain),
        Target("industry", "Industry", text(80)),
        Target("employees", "Employees", integer),
        Target("annual_revenue", "Annual revenue", money),
        Target("country", "Country", country),
        Target("owner", "Owner (email or name)", text(200)),
        Target("created_at", "Created", moment),
    ),
    Kind.OPPORTUNITIES: _targets(
        Target("external_id", "External id", text(100)),
        Target("name", "Name", text(200)),
        Target("account_external_id", "Account (external id)", text(100)),
        Target("account_name", "Account name", text(200)),
        Target("amount", "Amount", money),
        Target("stage", "Stage", choice(OPPORTUNITY_STAGE, "opportunity stage", codes=True)),
        Target("close_date", "Close date", day),
        Target(
            "lost_reason", "Lost reason", choice(LOST_REASON, "lost reason", default="", codes=True)
        ),
        Target("owner", "Owner (email or name)", text(200)),
        Target("created_at", "Created", moment),
    ),
    Kind.TOUCHPOINTS: _targets(
        Target("external_id", "External id", text(90)),
        Target("email", "Lead email", email),
        Target("lead_external_id", "Lead (external id)", text(100)),
        Target("type", "Type", choice(TOUCHPOINT_TYPE, "touchpoint type")),
        Target("occurred_at", "When", moment),
        Target("channel", "Channel", text(12)),
        Target("campaign", "Campaign name", text(200)),
    ),
}

# Each entry: "one of these targets must be mapped" (a group of alternatives).
REQUIRED: dict[Kind, tuple[tuple[str, ...], ...]] = {
    Kind.LEADS: (("email", "external_id"),),
    Kind.ACCOUNTS: (("name",), ("external_id", "domain")),
    Kind.OPPORTUNITIES: (("external_id",), ("name",), ("account_external_id", "account_name")),
    Kind.TOUCHPOINTS: (("email", "lead_external_id"), ("type",), ("occurred_at",)),
}

# The key a row is upserted by, in order of preference; duplicates of it within a file fail.
KEYS: dict[Kind, tuple[str, ...]] = {
    Kind.LEADS: ("external_id", "email"),
    Kind.ACCOUNTS: ("external_id", "domain"),
    Kind.OPPORTUNITIES: ("external_id",),
    Kind.TOUCHPOINTS: ("external_id",),
}

_HUBSPOT: dict[Kind, dict[str, tuple[str, ...]]] = {
    Kind.LEADS: {
        "external_id": ("Record ID", "Contact ID"),
        "first_name": ("First Name",),
        "last_name": ("Last Name",),
        "email": ("Email",),
        "phone": ("Phone Number", "Mobile Phone Number"),
        "title": ("Job Title",),
        "company": ("Company Name", "Company"),
        "account_external_id": ("Associated Company ID", "Primary Associated Company ID"),
        "industry": ("Industry",),
        "employees": ("Number of Employees",),
        "country": ("Country/Region", "Country"),
        "city": ("City",),
        "lifecycle_stage": ("Lifecycle Stage",),
        "status": ("Lead Status",),
        "source": ("Original Source", "Original Traffic Source"),
        "owner": ("Contact owner", "HubSpot Owner"),
        "created_at": ("Create Date",),
        "seniority": ("Seniority", "Job Seniority"),
    },
    Kind.ACCOUNTS: {
        "external_id": ("Record ID", "Company ID"),
        "name": ("Company name", "Name"),
        "domain": ("Company Domain Name", "Website URL"),
        "industry": ("Industry",),
        "employees": ("Number of Employees",),
        "annual_revenue": ("Annual Revenue",),
        "country": ("Country/Region", "Country"),
        "owner": ("Company owner",),
        "created_at": ("Create Date",),
    },
    Kind.OPPORTUNITIES: {
        "external_id": ("Record ID", "Deal ID"),
        "name": ("Deal Name",),
        "account_external_id": ("Associated Company ID", "Associated Company IDs"),
        "account_name": ("Associated Company", "Company name"),
        "amount": ("Amount",),
        "stage": ("Deal Stage",),
        "close_date": ("Close Date",),
        "lost_reason": ("Closed Lost Reason",),
        "owner": ("Deal owner",),
        "created_at": ("Create Date",),
    },
    Kind.TOUCHPOINTS: {
        "external_id": ("Event ID", "Activity ID"),
        "email": ("Email", "Contact Email"),
        "lead_external_id": ("Record ID", "Contact ID"),
        "type": ("Activity Type", "Event Type"),
        "occurred_at": ("Activity Date", "Timestamp", "Event Date"),
        "campaign": ("Campaign", "Campaign Name"),
    },
}

_SALESFORCE: dict[Kind, dict[str, tuple[str, ...]]] = {
    Kind.LEADS: {
        "external_id": ("Lead ID", "Contact ID"),
        "first_name": ("First Name",),
        "last_name": ("Last Name",),
        "email": ("Email",),
        "phone": ("Phone", "Mobile"),
        "title": ("Title",),
        "company": ("Company", "Account Name"),
        "account_external_id": ("Account ID",),
        "industry": ("Industry",),
        "employees": ("No. of Employees", "Employees"),
        "country": ("Country", "Mailing Country"),
        "city": ("City", "Mailing City"),
        "lifecycle_stage": ("Lifecycle Stage",),
        "status": ("Lead Status", "Status"),
        "source": ("Lead Source",),
        "owner": ("Lead Owner", "Contact Owner", "Owner"),
        "created_at": ("Created Date", "Create Date"),
    },
    Kind.ACCOUNTS: {
        "external_id": ("Account ID",),
        "name": ("Account Name",),
        "domain": ("Website",),
        "industry": ("Industry",),
        "employees": ("Employees", "No. of Employees"),
        "annual_revenue": ("Annual Revenue",),
        "country": ("Billing Country", "Country"),
        "owner": ("Account Owner",),
        "created_at": ("Created Date",),
    },
    Kind.OPPORTUNITIES: {
        "external_id": ("Opportunity ID",),
        "name": ("Opportunity Name",),
        "account_external_id": ("Account ID",),
        "account_name": ("Account Name",),
        "amount": ("Amount",),
        "stage": ("Stage",),
        "close_date": ("Close Date",),
        "lost_reason": ("Loss Reason", "Closed Lost Reason"),
        "owner": ("Opportunity Owner",),
        "created_at": ("Created Date",),
    },
    Kind.TOUCHPOINTS: {
        "external_id": ("Activity ID", "Campaign Member ID"),
        "email": ("Email",),
        "lead_external_id": ("Lead ID", "Contact ID"),
        "type": ("Activity Type", "Member Status", "Type"),
        "occurred_at": ("Date", "Activity Date", "Created Date"),
        "campaign": ("Campaign Name",),
    },
}

# Generic files: our names plus the synonyms people commonly type.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "external id", "record id", "crm id"),
    "first_name": ("first", "firstname", "given name", "forename"),
    "last_name": ("last", "lastname", "surname", "family name"),
    "email": ("email address", "e-mail", "mail", "work email", "lead email", "contact email"),
    "phone": ("phone number", "telephone", "mobile", "tel"),
    "title": ("job title", "position", "role"),
    "company": ("company name", "organization", "organisation", "employer"),
    "name": ("company name", "account name", "opportunity name", "deal name"),
    "domain": ("website", "web site", "url", "company domain"),
    "employees": ("number of employees", "employee count", "headcount", "company size"),
    "annual_revenue": ("revenue", "annual revenue"),
    "country": ("country code", "country/region", "nation"),
    "lifecycle_stage": ("lifecycle stage", "lifecycle", "stage"),
    "status": ("lead status",),
    "source": ("lead source", "original source", "utm source"),
    "owner": ("owner email", "assigned to", "rep", "sales rep"),
    "created_at": ("created", "create date", "created date", "date created", "signup date"),
    "amount": ("value", "deal value", "deal amount"),
    "stage": ("deal stage", "opportunity stage"),
    "close_date": ("close date", "closing date", "expected close"),
    "occurred_at": ("timestamp", "date", "time", "when", "occurred"),
    "type": ("event", "event type", "activity type", "touchpoint type"),
    "account_name": ("account", "company"),
}


def normalise_header(header: str) -> str:
    """Header text compared loosely: case, spaces and punctuation do not matter."""
    return _key(header.replace("\ufeff", ""))


def _aliases(kind: Kind, fmt: Format) -> dict[str, str]:
    """{normalised column name: target}, the format's own names winning over generic ones."""
    targets = TARGETS[kind]
    table: dict[str, str] = {}
    for name in targets:
        for alias in (name, *_SYNONYMS.get(name, ())):
            table.setdefault(normalise_header(alias), name)
    own = {Format.HUBSPOT: _HUBSPOT, Format.SALESFORCE: _SALESFORCE}.get(fmt, {})
    for name, aliases in own.get(kind, {}).items():
        for alias in aliases:
            table[normalise_header(alias)] = name
    return table


def detect_mapping(headers: list[str], kind: Kind, fmt: Format) -> dict[str, str]:
    """{column header: target field or ""} for each column; each target is used at most once."""
    table = _aliases(kind, fmt)
    used: set[str] = set()
    mapping: dict[str, str] = {}
    for header in headers:
        target = table.get(normalise_header(header), "")
        if target in used:
            target = ""
        used.add(target)
        mapping[header] = target
    return mapping


def missing_required(mapping: dict[str, str], kind: Kind) -> list[str]:
    """Human-readable names of required fields that no column is mapped to."""
    mapped = set(mapping.values())
    labels = TARGETS[kind]
    return [
        " or ".join(labels[name].label for name in group)
        for group in REQUIRED[kind]
        if not mapped.intersection(group)
    ]


def validate_mapping(mapping: dict[str, str], kind: Kind) -> list[str]:
    """Problems with a user-edited mapping: unknown targets, a target used twice, missing ones."""
    problems = []
    seen: dict[str, str] = {}
    for header, target in mapping.items():
        if not target:
            continue
        if target not in TARGETS[kind]:
            problems.append(f"column {header!r}: unknown field {target!r}")
        elif target in seen:
            problems.append(f"columns {seen[target]!r} and {header!r} both map to {target!r}")
        seen[target] = header
    problems += [
        f"no column is mapped to {name} (required)" for name in missing_required(mapping, kind)
    ]
    return problems


# ---------------------------------------------------------------------------------------------
# Rows.


@dataclass
class Row:
    """One record of the file: where it starts, its parsed values and its problems."""

    line: int
    values: dict[str, object] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (column, value, reason)

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, column: str, value: str, reason: str) -> None:
        self.errors.append((column, value, reason))


class RowConverter:
    """Turns the cells of a record into our values, with one parser per mapped column."""

    def __init__(self, headers: list[str], mapping: dict[str, str], kind: Kind):
        targets = TARGETS[kind]
        self.headers = headers
        self.width = len(headers)
        self.columns = [
            (index, header, mapping[header], targets[mapping[header]].parse)
            for index, header in enumerate(headers)
            if mapping.get(header)
        ]
        # A row must carry one of its kind's upsert keys, or importing it twice would create it
        # twice. Touchpoints have a fallback (a digest of who, what and when).
        self.keys = KEYS[kind] if kind != Kind.TOUCHPOINTS else ()
        by_target = {target: header for header, target in mapping.items() if target}
        self.key_columns = [by_target[name] for name in self.keys if name in by_target]

    def convert(self, line: int, cells: list[str]) -> Row:
        row = Row(line)
        if isinstance(cells, BrokenRecord):
            row.fail("", "", cells.reason)
            return row
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            row.fail("", "", f"has {len(cells)} cells where the header has {self.width}")
            return row
        values = row.values
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        # One scan of the whole record instead of one per cell: bad bytes are rare.
        joined = "\x01".join(cells)
        if "\x00" in joined:  # PostgreSQL stores no NUL in text; a chunk holding one would fail
            row.fail("", "", "the row holds a NUL byte")
            return row
        suspect = "\ufffd" in joined
        for index, header, target, parse in self.columns:
            cell = cells[index].strip()
            if not cell:
                continue
            if suspect and "\ufffd" in cell:
                row.fail(header, cell, "bad encoding: bytes that are neither UTF-8 nor cp1252")
                continue
            try:
                values[target] = parse(cell)
            except BadValue as exc:
                row.fail(header, cell, str(exc))
        if self.keys and row.ok and not any(map(values.get, self.keys)):
            self._fail_keyless(row)
        return row

    def _fail_keyless(self, row: Row) -> None:
        columns = " or ".join(self.key_columns) or "key"
        row.fail(
            self.key_columns[0] if self.key_columns else "",
            "",
            f"no {columns}: a row needs one to be matched when imported again",
        )


def is_blank(cells: list[str]) -> bool:
    # A broken record has no cells but is not blank: it is an error row.
    return not any(map(str.strip, cells)) and not isinstance(cells, BrokenRecord)


def row_key(values: dict[str, object], kind: Kind) -> tuple[str, str] | None:
    """(key field, normalised value) a row upserts by, e.g. ('email', 'ann@acme.com')."""
    for name in KEYS[kind]:
        value = values.get(name)
        if value:
            return name, str(value).lower()
    return None
