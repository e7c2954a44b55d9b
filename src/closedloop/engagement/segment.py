"""Reading messages of the Segment HTTP tracking API. Pure: imports no Django.

A raw message (a dict decoded from the request's JSON) becomes either a `Message` with its
fields checked and normalised, or a `Rejection` naming what is wrong with it. The rules follow
Segment's spec (segment.com/docs/connections/spec/common): every message needs a `userId` or an
`anonymousId`; `track` needs an `event`; `messageId` is under 100 characters; `timestamp`
wins over `originalTimestamp`, which is corrected for the client's clock skew with `sentAt`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from closedloop.vocabulary import TouchType

# Segment's limit of 32 KB for one message. A batch request may be 4 MB, RudderStack's limit:
# Segment's clients stop a batch at 500 KB, but RudderStack's fill one up to 4 MB and drop
# the whole batch when it is refused with a 4xx.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_ID_LENGTH = 100  # Touchpoint.anonymous_id / message_id are 100 characters

TOUCH_TYPES = ("track", "page", "screen")
IDENTITY_TYPES = ("identify", "group", "alias")
MESSAGE_TYPES = TOUCH_TYPES + IDENTITY_TYPES

# Track event names → touchpoint types (TouchpointType values). A source may override these.
DEFAULT_EVENT_TYPES: dict[str, str] = {
    "form submitted": TouchType.FORM,
    "form filled": TouchType.FORM,
    "webinar attended": TouchType.WEBINAR,
    "webinar registered": TouchType.WEBINAR,
    "email opened": TouchType.EMAIL_OPEN,
    "email link clicked": TouchType.EMAIL_CLICK,
    "email clicked": TouchType.EMAIL_CLICK,
    "ad clicked": TouchType.AD_CLICK,
    "content viewed": TouchType.CONTENT_VIEW,
    "asset downloaded": TouchType.CONTENT_VIEW,
    "event attended": TouchType.EVENT,
    "meeting booked": TouchType.MEETING,
}

# utm_medium → campaigns.Channel, for touches whose campaign is not a known Campaign.
_MEDIUM_CHANNELS = {
    "email": "email",
    "e-mail": "email",
    "newsletter": "email",
    "cpc": "search",
    "ppc": "search",
    "paid": "search",
    "paid_search": "search",
    "paidsearch": "search",
    "sem": "search",
    "organic": "search",
    "seo": "search",
    "social": "social",
    "paid_social": "social",
    "paidsocial": "social",
    "social-media": "social",
    "event": "events",
    "events": "events",
    "webinar": "events",
    "partner": "partners",
    "affiliate": "partners",
    "referral": "partners",
}
_SOCIAL_SOURCES = {"facebook", "linkedin", "twitter", "x", "instagram", "youtube", "reddit"}
_TYPE_CHANNELS: dict[str, str] = {
    TouchType.EMAIL_OPEN: "email",
    TouchType.EMAIL_CLICK: "email",
    TouchType.WEBINAR: "events",
    TouchType.EVENT: "events",
    TouchType.AD_CLICK: "search",
    TouchType.MEETING: "sales",
    TouchType.SALES_CALL: "sales",
}

# utm_medium → crm.LeadSource, for leads first seen through tracking.
_MEDIUM_LEAD_SOURCES = {
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paid_search": "paid_search",
    "sem": "paid_search",
    "organic": "organic_search",
    "seo": "organic_search",
    "social": "social",
    "paid_social": "social",
    "paidsocial": "social",
    "email": "email",
    "newsletter": "email",
    "referral": "referral",
    "webinar": "webinar",
    "event": "event",
    "events": "event",
    "partner": "partner",
    "affiliate": "partner",
}

# Identify traits → Lead fields, in both spellings Segment allows (camelCase and snake_case).
_LEAD_TRAITS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "first_name": ("firstName", "first_name", "firstname"),
    "last_name": ("lastName", "last_name", "lastname"),
    "title": ("title", "jobTitle", "job_title"),
    "phone": ("phone",),
    "industry": ("industry",),
    "employees": ("employees", "employee_count", "employeeCount"),
    "country": ("country",),
    "city": ("city",),
}
LEAD_FIELD_LENGTHS = {
    "email": 254,
    "first_name": 100,
    "last_name": 100,
    "title": 150,
    "phone": 40,
    "industry": 80,
    "company": 200,
    "country": 2,
    "city": 100,
}

_LOOSE_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


@dataclass(frozen=True)
class Rejection:
    index: int
    message_id: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "messageId": self.message_id, "reason": self.reason}


@dataclass
class Message:
    """One checked message. `occurred_at` is UTC; `campaign` is context.campaign (utm)."""

    index: int
    type: str
    message_id: str | None
    user_id: str | None
    anonymous_id: str | None
    occurred_at: datetime
    event: str = ""
    name: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    previous_id: str | None = None

    @property
    def campaign(self) -> dict[str, Any]:
        value = self.context.get("campaign")
        return value if isinstance(value, dict) else {}

    @property
    def visitor_key(self) -> str:
        """What the touch is stored under until it joins a lead (Touchpoint.anonymous_id).

        The anonymousId when there is one; else the userId, marked so it cannot collide with
        an anonymousId of the same spelling.
        """
        return self.anonymous_id or f"user:{self.user_id}"


class Invalid(ValueError):
    """A message that cannot be stored; the text is the reason returned to the client."""


def parse_time(value: object) -> datetime:
    """An ISO-8601 string → aware UTC datetime; naive times are UTC.

    Lenient like Segment's servers: single-digit months and days ("2015-2-02T00:30:08.276Z",
    which is in Segment's own batch example) are accepted.
    """
    if not isinstance(value, str):
        raise Invalid("not an ISO-8601 date string")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_loose(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_loose(text: str) -> datetime:
    match = _LOOSE_DATE.match(text)
    if not match:
        raise Invalid(f"{text[:40]!r} is not an ISO-8601 date")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
        )
    except ValueError as exc:
        raise Invalid(f"{text[:40]!r} is not a valid date: {exc}") from None
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        parsed = parsed.replace(tzinfo=UTC) - sign * offset
    return parsed


def occurred_at(raw: dict[str, Any], received_at: datetime) -> datetime:
    """When it happened, the way Segment computes `timestamp`.

    An explicit `timestamp` wins. Otherwise `originalTimestamp` (the device's clock) is moved
    by the skew between the device and the server: received_at - (sentAt - originalTimestamp).
    With neither, the time it was received.
    """
    if raw.get("timestamp") is not None:
        return _timed("timestamp", raw["timestamp"])
    if raw.get("originalTimestamp") is not None:
        original = _timed("originalTimestamp", raw["originalTimestamp"])
        if raw.get("sentAt") is not None:
            sent = _timed("sentAt", raw["sentAt"])
            return received_at - (sent - original)
        return original
    return received_at


def _timed(name: str, value: object) -> datetime:
    try:
        return parse_time(value)
    except Invalid as exc:
        raise Invalid(f"{name}: {exc}") from None


def _identifier(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{name} must be a string")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise Invalid(f"{name} is longer than {MAX_ID_LENGTH} characters")
    return text


def _object(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object")
    return value


def parse_message(
    raw: object,
    *,
    index: int,
    kind: str | None,
    received_at: datetime,
    defaults: dict[str, Any] | None = None,
) -> Message:
    """Check one raw message and return it normalised; raises Invalid with the reason.

    `kind` is the endpoint's type (track, page, ...) for single calls, None inside a batch,
    where each message names its own `type`. `defaults` carries a batch's shared `context`,
    `integrations` and `sentAt`, which the message's own values override.
    """
    if not isinstance(raw, dict):
        raise Invalid("a message must be a JSON object")
    if defaults:
        raw = _merged(raw, defaults)
    msg_type = _message_type(raw, kind)
    user_id, anonymous_id = _who(raw, msg_type)
    message = Message(
        index=index,
        type=msg_type,
        message_id=_identifier(raw, "messageId"),
        user_id=user_id,
        anonymous_id=anonymous_id,
        occurred_at=occurred_at(raw, received_at),
        properties=_object(raw, "properties"),
        traits=_object(raw, "traits"),
        context=_object(raw, "context"),
    )
    _parse_by_type(message, raw)
    return message


def _message_type(raw: dict[str, Any], kind: str | None) -> str:
    msg_type = raw.get("type") or raw.get("action") or kind
    if msg_type not in MESSAGE_TYPES:
        raise Invalid(f"type must be one of {', '.join(MESSAGE_TYPES)}, not {msg_type!r}")
    return str(msg_type)


def _who(raw: dict[str, Any], msg_type: str) -> tuple[str | None, str | None]:
    """(userId, anonymousId): every message but an alias needs one of them."""
    user_id, anonymous_id = _identifier(raw, "userId"), _identifier(raw, "anonymousId")
    if user_id is None and anonymous_id is None and msg_type != "alias":
        raise Invalid("userId or anonymousId is required")
    return user_id, anonymous_id


def _parse_by_type(message: Message, raw: dict[str, Any]) -> None:
    if message.type == "track":
        event = raw.get("event")
        if not isinstance(event, str) or not event.strip():
            raise Invalid("event is required for track")
        message.event = event.strip()[:200]
    elif message.type in ("page", "screen"):
        name = raw.get("name")
        message.name = name.strip()[:200] if isinstance(name, str) else ""
        if isinstance(raw.get("category"), str):
            message.properties = {"category": raw["category"], **message.properties}
    elif message.type == "group":
        message.group_id = _identifier(raw, "groupId")
        if message.group_id is None:
            raise Invalid("groupId is required for group")
    elif message.type == "alias":
        message.previous_id = _identifier(raw, "previousId")
        if message.previous_id is None or message.user_id is None:
            raise Invalid("alias needs previousId and userId")
    if message.type == "identify" and not message.traits:
        # Segment's older clients put identify traits in context.traits.
        traits = message.context.get("traits")
        message.traits = traits if isinstance(traits, dict) else {}


def _merged(raw: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    merged = dict(raw)
    for key in ("context", "integrations"):
        shared = defaults.get(key)
        if isinstance(shared, dict) and shared:
            own = raw.get(key)
            merged[key] = {**shared, **own} if isinstance(own, dict) else shared
    if "sentAt" in defaults and "sentAt" not in raw:
        merged["sentAt"] = defaults["sentAt"]
    return merged


# An escaped NUL: \u0000 after an even number of backslashes (a literal "\\u0000" is text).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# orjson's own nesting limit; the standard library's fallback would allow ~1000, but a message
# that deep is an attack or a bug, never an event, and reading it back could exhaust the stack.
MAX_DEPTH = 254


def envelope_problem(raw: object, *, check_size: bool) -> str | None:
    """Why a raw message cannot be stored as it is, else None: too big, nested too deep, or
    holding a character no database can store (NUL, a lone UTF-16 surrogate).

    A NUL character (JSON's \\u0000) is valid JSON, but PostgreSQL can store it neither in
    text nor in jsonb: left in, it would fail the whole batch's transaction, not this message.
    """
    try:
        encoded = _compact_json(raw)  # what Segment's 32 KB limit counts
    except Invalid as exc:
        return str(exc)
    if check_size and len(encoded) > MAX_EVENT_BYTES:
        return f"message is {len(encoded)} bytes; the limit is 32 KB"
    if b"\\u0000" in encoded and _ESCAPED_NUL.search(encoded):
        return "message contains a NUL character (\\u0000), which cannot be stored"
    return None


def _compact_json(raw: object) -> bytes:
    try:
        # orjson writes the same compact UTF-8, ~10x faster than json: this runs per message.
        return orjson.dumps(raw)
    except orjson.JSONEncodeError as exc:
        if "recursion" in str(exc).lower():
            raise Invalid(f"message is nested deeper than {MAX_DEPTH} levels") from None
    except TypeError:
        pass
    try:  # e.g. an integer over 64 bits, which orjson refuses and json writes exactly
        return _COMPACT.encode(raw).encode()
    except RecursionError:
        raise Invalid(f"message is nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeEncodeError:
        # What a browser script sends when it cuts a string between the halves of an emoji.
        raise Invalid(
            "message contains a lone UTF-16 surrogate (half of a character), which cannot be stored"
        ) from None


# A JSON string, or a run of opening or of closing brackets.
_JSON_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*+"|[\[{]+|[\]}]+')


def without_deep_values(body: bytes, *, cut_at: int = MAX_DEPTH + 16) -> bytes:
    """The JSON text with every array or object nested deeper than `cut_at` replaced by null.

    For a body the standard parser refuses with a RecursionError: one message nested
    thousands deep must not cost the rest of its batch. Each cut leaves its message still
    deeper than MAX_DEPTH, so that message is then rejected alone, with its reason. Runs of
    brackets are one match each, so a body of 4 MB of "[" is a single step.
    """
    pieces, depth, kept, cut_from = [], 0, 0, None
    for match in _JSON_NESTING.finditer(body):
        token = match.group()
        if token[0] == 34:  # a string: its brackets are text
            continue
        if token[0] in b"[{":
            if cut_from is None and depth + len(token) > cut_at:
                cut_from = match.start() + (cut_at - depth)
            depth += len(token)
        else:
            if cut_from is not None and depth - len(token) <= cut_at:
                end = match.start() + (depth - cut_at)
                pieces += [body[kept:cut_from], b"null"]
                kept, cut_from = end, None
            depth -= len(token)
    pieces.append(body[kept:])
    return b"".join(pieces)


def touch_type(message: Message, overrides: dict[str, str] | None = None) -> str:
    """The TouchpointType value of a touch message: page/screen → page_view; track by name."""
    if message.type in ("page", "screen"):
        return TouchType.PAGE_VIEW.value
    key = message.event.casefold()
    if overrides and key in overrides:
        return overrides[key]
    return str(DEFAULT_EVENT_TYPES.get(key, TouchType.OTHER))


def touch_properties(message: Message) -> dict[str, Any]:
    """What a touch keeps: the event's properties, its name and the page and utm it came from."""
    props = dict(message.properties)
    if message.type == "track":
        props["event"] = message.event
    elif message.name:
        props.setdefault("name", message.name)
    if message.type == "screen":
        props["screen"] = True
    page = message.context.get("page")
    if isinstance(page, dict):
        for key in ("url", "path", "referrer", "title"):
            if page.get(key) and key not in props:
                props[key] = page[key]
    if message.campaign:
        props["utm"] = message.campaign
    return props


def channel_for(touch: str, utm: dict[str, Any], campaign_channel: str = "") -> str:
    """The campaigns.Channel of a touch: its campaign's, else what utm says, else its type's."""
    if campaign_channel:
        return campaign_channel
    medium = str(utm.get("medium") or "").strip().casefold()
    if str(utm.get("source") or "").strip().casefold() in _SOCIAL_SOURCES and medium in (
        "cpc",
        "ppc",
        "paid",
        "social",
        "paid_social",
        "",
    ):
        return "social"
    if medium in _MEDIUM_CHANNELS:
        return _MEDIUM_CHANNELS[medium]
    return _TYPE_CHANNELS.get(touch, "web")


def lead_source_for(utm: dict[str, Any]) -> str:
    """The crm.LeadSource of a lead first seen through tracking, from utm_medium."""
    medium = str(utm.get("medium") or "").strip().casefold()
    return _MEDIUM_LEAD_SOURCES.get(medium, "other")


def lead_fields(traits: dict[str, Any]) -> dict[str, Any]:
    """Identify traits → Lead field values (only those present and usable).

    `name` is split into first and last name when those are not given; `company` may be a
    string or Segment's company object; `address.city` / `address.country` fill city and
    country; a country is kept only as an ISO alpha-2 code (Lead.country is two letters).
    """
    values: dict[str, Any] = {}
    for target, names in _LEAD_TRAITS.items():
        for name in names:
            if traits.get(name) not in (None, ""):
                values[target] = traits[name]
                break
    _fill_from_name(values, traits.get("name"))
    _fill_from_company(values, traits.get("company"))
    address = traits.get("address")
    if isinstance(address, dict):
        values.setdefault("city", address.get("city") or "")
        values.setdefault("country", address.get("country") or "")
    return _cleaned(values)


def _fill_from_name(values: dict[str, Any], name: object) -> None:
    if (
        isinstance(name, str)
        and name.strip()
        and not (values.get("first_name") or values.get("last_name"))
    ):
        first, _, last = name.strip().partition(" ")
        values["first_name"], values["last_name"] = first, last.strip()


def _fill_from_company(values: dict[str, Any], company: object) -> None:
    if isinstance(company, str):
        values["company"] = company
    elif isinstance(company, dict):
        values["company"] = company.get("name") or ""
        values.setdefault("industry", company.get("industry") or "")
        values.setdefault("employees", company.get("employee_count") or company.get("employees"))


def _cleaned(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key == "employees":
            number = _count(value)
            if number is not None:
                cleaned[key] = number
            continue
        if value is None or isinstance(value, dict | list):
            continue
        text = str(value).strip()
        if key == "email":
            text = text.lower()
            if "@" not in text:
                continue
        if key == "country":
            if len(text) != 2 or not text.isalpha():
                continue
            text = text.upper()
        if text:
            cleaned[key] = text[: LEAD_FIELD_LENGTHS[key]]
    return cleaned


def _count(value: Any) -> int | None:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 10_000_000 else None


def account_fields(traits: dict[str, Any]) -> dict[str, Any]:
    """Group traits → Account field values: name, domain (or website), industry, employees."""
    values: dict[str, Any] = {}
    if isinstance(traits.get("name"), str) and traits["name"].strip():
        values["name"] = traits["name"].strip()[:200]
    domain = traits.get("domain") or traits.get("website")
    if isinstance(domain, str) and domain.strip():
        values["domain"] = _domain(domain)
    if isinstance(traits.get("industry"), str) and traits["industry"].strip():
        values["industry"] = traits["industry"].strip()[:80]
    employees = _count(traits.get("employees"))
    if employees is not None:
        values["employees"] = employees
    return {k: v for k, v in values.items() if v not in ("", None)}


def _domain(text: str) -> str:
    host = re.sub(r"^[a-z]+://", "", text.strip().casefold()).split("/")[0].split(":")[0]
    return host.removeprefix("www.")[:200]
