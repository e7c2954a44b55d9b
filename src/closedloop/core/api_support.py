"""What every JSON API router shares: the error shape, cursor pagination and ETag/If-Match.

Every 4xx body has one shape, so a client needs one error handler:

    {"errors": [{"field": "email", "problem": "value is not a valid email address"}]}

`field` is a dotted path into the body or the name of the query parameter, path parameter or
header at fault; it is "" only when no single field is to blame.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Path, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from closedloop.core.concurrency import StaleVersion

MAX_LIMIT = 200
MAX_ID = 2**63 - 1  # SQLite INTEGER and PostgreSQL bigint
DEFAULT_LIMIT = 50


class OutSchema(BaseModel):
    """Base of response schemas: plain pydantic reading the model's attributes.

    ninja's Schema wraps every object in a DjangoGetter first; for a 50-row page of leads
    that made serialisation ten times slower (38 ms against 4 ms), for features responses
    do not use (resolvers, related managers).
    """

    model_config = ConfigDict(from_attributes=True)


NO_NUL = "^[^\\x00]*$"  # PostgreSQL stores no NUL character; the schema says so too


def _document_no_nul(schema: dict, _cls=None) -> None:
    """Give every free-text string property the NO_NUL pattern, so clients know it."""
    for prop in schema.get("properties", {}).values():
        for option in [prop, *prop.get("anyOf", [])]:
            if option.get("type") == "string" and not {"pattern", "format", "enum"} & set(option):
                option["pattern"] = NO_NUL


class BodySchema(BaseModel):
    """Base of request body schemas: a JSON object whose values have exactly their types.

    Plain pydantic, not ninja's Schema: ninja's reads any object's attributes, so a body of
    `[1, 2]`, `null` or `"hello"` was a blank record (the last titled "Hello", str.title).
    Pydantic's lax mode also reads `false` as 0 and `0` as 1970-01-01; PostgreSQL stores no
    NUL character. Each of these is a 422 naming the field.
    """

    model_config = ConfigDict(json_schema_extra=_document_no_nul)

    def dict(self, **kwargs) -> dict:  # type: ignore[override]
        """As ninja's Schema has it (pydantic's own `dict` is deprecated): model_dump."""
        return self.model_dump(**kwargs)

    @model_validator(mode="before")
    @classmethod
    def _a_json_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"the body must be a JSON object, not {_json_kind(data)}")
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _exact_json_types(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters (\\u0000) cannot be stored")
        if isinstance(value, dict | list):
            _check_storable(value)
        expected = _plain_types(cls.model_fields[info.field_name].annotation)
        if isinstance(value, bool) and bool not in expected and expected & _NUMBERS:
            raise ValueError(f"must be a number, not {str(value).lower()}")
        if (
            isinstance(value, int | float)
            and expected & _DATES
            and not expected & (_NUMBERS | {bool})
        ):
            raise ValueError("must be a date string (ISO 8601), not a number")
        return value


class QuerySchema(Schema):
    """Base of query-parameter schemas (`Query[...]`): a NUL character in a text parameter is
    a 422 naming it (PostgreSQL compares no text with a NUL: the filter's query failed as a
    500), and the OpenAPI document gives free-text parameters the NO_NUL pattern."""

    model_config = ConfigDict(json_schema_extra=_document_no_nul)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters (\\u0000) are not allowed")
        return value


def _check_storable(value: dict | list) -> None:
    """Free-form JSON (a contract body) as PostgreSQL's jsonb can store it."""
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        text = str(exc)
        if "surrogate" in text:
            raise ValueError("holds a lone UTF-16 surrogate, which cannot be stored") from None
        raise ValueError(f"cannot be stored: {text}") from None
    if b"\\u0000" in encoded:
        raise ValueError("NUL characters (\\u0000) cannot be stored")


_NUMBERS = {int, float, Decimal}
_DATES = {datetime.date, datetime.datetime}


def _plain_types(annotation: Any) -> set[type]:
    """The classes a field's annotation allows (through Optional, unions and Annotated)."""
    if isinstance(annotation, type):
        return {annotation}
    found: set[type] = set()
    for part in getattr(annotation, "__args__", ()) or ():
        found |= _plain_types(part)
    origin = getattr(annotation, "__origin__", None)
    if isinstance(origin, type) and not found:
        found.add(origin)
    return found


def _json_kind(data: Any) -> str:
    if data is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(data), "a number")


class ErrorItem(OutSchema):
    field: str
    problem: str


class ErrorOut(OutSchema):
    errors: list[ErrorItem]


class ApiError(Exception):
    """Raise from an endpoint to answer `status` with the standard error body."""

    def __init__(self, status: int, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.status = status
        self.errors = [{"field": field, "problem": problem}]


def not_found(kind: str, pk: Any, field: str = "id") -> ApiError:
    # Also the answer for records the caller may not see: 404 does not reveal that they exist.
    return ApiError(404, field, f"no {kind} with id {pk}")


def invalid(field: str, problem: str) -> ApiError:
    return ApiError(422, field, problem)


# Every error response an endpoint may give, for the OpenAPI document.
ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 412, 413, 422, 429)}


def error_response(api: NinjaAPI, request: HttpRequest, status: int, errors: list[dict]):
    return api.create_response(request, {"errors": errors}, status=status)


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default error bodies with the standard shape."""

    @api.exception_handler(ValidationError)
    def _validation(request, exc: ValidationError):
        return error_response(api, request, 422, [_from_pydantic(e) for e in exc.errors])

    @api.exception_handler(ApiError)
    def _api_error(request, exc: ApiError):
        return error_response(api, request, exc.status, exc.errors)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        problem = "missing, unknown or revoked API token; send Authorization: Bearer <token>"
        response = error_response(
            api, request, 401, [{"field": "Authorization", "problem": problem}]
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        field = "body" if exc.status_code == 400 else ""
        return error_response(
            api, request, exc.status_code, [{"field": field, "problem": str(exc)}]
        )

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return error_response(
            api, request, 403, [{"field": "", "problem": str(exc) or "forbidden"}]
        )

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return error_response(
            api, request, 404, [{"field": "", "problem": str(exc) or "not found"}]
        )

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request, exc):
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        problem = f"the body is over {limit // 1024} KB"
        return error_response(api, request, 413, [{"field": "body", "problem": problem}])

    @api.exception_handler(DjangoValidationError)
    def _refused(request, exc: DjangoValidationError):
        # A service's refusal names the field: {"lead_reason": ["..."]} → one error per problem.
        problems = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        errors = [{"field": f, "problem": p} for f, texts in problems.items() for p in texts]
        return error_response(api, request, 422, errors)

    @api.exception_handler(StaleVersion)
    def _stale(request, exc):
        return error_response(api, request, 412, [{"field": "If-Match", "problem": STALE_PROBLEM}])


# Problems in words for the patterns the OpenAPI document states.
_PATTERN_PROBLEMS: dict[str, str] = {}  # filled below, once the patterns are defined
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


def _from_pydantic(error: dict) -> dict:
    """One ninja/pydantic error as {field, problem}; loc is e.g. ("body", "payload", "email")."""
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in _LOCATIONS:
        where, loc = loc[0], loc[1:]
        # Body schemas are wrapped in the view's parameter name (e.g. "payload"); drop it.
        if where in ("body", "form") and len(loc) > 1:
            loc = loc[1:]
    problem = str(error.get("msg", "is not valid"))
    problem = problem.removeprefix("Value error, ")
    if problem.startswith("the body must be"):  # BodySchema's check of the whole body
        loc = ["body"]
    if error.get("type") == "missing":
        problem = "this field is required"
    if error.get("type") == "string_pattern_mismatch":
        problem = _PATTERN_PROBLEMS.get((error.get("ctx") or {}).get("pattern"), problem)
    return {"field": ".".join(loc), "problem": problem}


# --- field types -------------------------------------------------------------------------


def _email(value: str) -> str:
    value = value.strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("value is not a valid email address") from None
    return value


# What Django's EmailValidator accepts, less its rarer forms (quoted local parts, IP
# literals, international domain names), so the OpenAPI pattern and the server agree: a value
# matching it passes both, one that does not is refused by both.
EMAIL_PATTERN = (
    r"^$|^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
Email = Annotated[str, Field(pattern=EMAIL_PATTERN), AfterValidator(_email)]
"""An email address, or "" for none; validated the way Django validates forms."""

Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 999999999999.99, "multipleOf": 0.01},
                {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"},
            ]
        }
    ),
]
"""An amount of money: at most 12 digits before the point and 2 after, not negative."""


def sort_keys(kinds: dict[str, type]) -> Any:
    """The `sort` values a list accepts (each field, and "-field" for descending), as an enum
    in the OpenAPI document: what the server refuses, a generated client cannot send."""
    return Literal[tuple(name for field in kinds for name in (field, f"-{field}"))]


_NUMBER_TEXT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    # Pydantic reads a number (or "0.5") as Unix time; the documented format is ISO 8601.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER_TEXT.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date-time, not a number")
    return value


def to_utc(value: datetime.datetime) -> datetime.datetime:
    """The same instant in UTC; a value without a time zone is taken as UTC.

    Python accepts offsets up to ±24 h, PostgreSQL only up to ±16 h: converting first means
    every valid instant reaches the database in a form it accepts.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A primary key; bounded so an absurd number is a 422, not a database overflow."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]

UtcDatetime = Annotated[datetime.datetime, BeforeValidator(_iso_text), AfterValidator(to_utc)]
"""A datetime, normalised to UTC (naive values are read as UTC)."""


# --- ETag / If-Match ---------------------------------------------------------------------

STALE_PROBLEM = "the record changed since you read it; GET it again and reapply your change"
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: HttpRequest) -> int | None:
    """The version an If-Match header asks for; None without the header (or with `*`)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = _ETAG.match(raw)
    if match is None:
        raise ApiError(400, "If-Match", 'expected an ETag as returned by GET, e.g. "3"')
    return int(match.group(1))


def set_etag(response: HttpResponse, version: int) -> None:
    response["ETag"] = etag(version)


# --- cursor pagination -------------------------------------------------------------------


@dataclass(frozen=True)
class Ordering:
    """A keyset ordering: one non-null sort field plus the primary key as tie-breaker."""

    name: str  # as the client names it, e.g. "-created_at"
    field: str
    descending: bool
    kind: type  # datetime.datetime, Decimal, int, float or str: how the cursor stores the key

    @classmethod
    def parse(cls, name: str, kinds: dict[str, type]) -> Ordering:
        field = name.removeprefix("-")
        if field not in kinds:
            allowed = ", ".join(f"{f}, -{f}" for f in kinds)
            raise invalid("sort", f"cannot sort by {name!r}; use one of {allowed}")
        return cls(name=name, field=field, descending=name.startswith("-"), kind=kinds[field])

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{self.field}", f"{sign}pk"]

    def after(self, key: Any, pk: int) -> Q:
        op = "lt" if self.descending else "gt"
        return Q(**{f"{self.field}__{op}": key}) | Q(**{self.field: key, f"pk__{op}": pk})


def encode_cursor(ordering: Ordering, key: Any, pk: int) -> str:
    if isinstance(key, datetime.datetime):
        key = key.isoformat()
    elif isinstance(key, Decimal):
        key = str(key)
    raw = json.dumps([ordering.name, key, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: Ordering) -> tuple[Any, int]:
    """The (sort key, id) a cursor resumes after; ApiError 422 on anything malformed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, key, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise invalid("cursor", "not a cursor returned by this endpoint") from None
    if name != ordering.name:
        raise invalid("cursor", f"this cursor belongs to sort={name!r}; pass the same sort")
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise invalid("cursor", "not a cursor returned by this endpoint")
    return _cursor_key(key, ordering.kind), pk


def _cursor_key(key: Any, kind: type) -> Any:
    try:
        if kind is datetime.datetime:
            value = datetime.datetime.fromisoformat(key)
            if value.tzinfo is None:
                raise ValueError
            return to_utc(value)
        if kind is Decimal and isinstance(key, str) and Decimal(key).is_finite():
            return Decimal(key)
        if kind is float and isinstance(key, int | float) and not isinstance(key, bool):
            return float(key)
        if isinstance(key, kind) and not isinstance(key, bool):
            return key
    except (TypeError, ValueError, ArithmeticError):
        pass
    raise invalid("cursor", "not a cursor returned by this endpoint")


def paginate(
    queryset: QuerySet, *, ordering: Ordering, cursor: str | None, limit: int
) -> tuple[Sequence, str | None]:
    """One page of `queryset` in `ordering` after `cursor`: (rows, cursor of the next page).

    Keyset pagination: each page is an index range scan from the previous page's last row, so
    page 1,000 costs what page 1 costs and rows inserted meanwhile cause no duplicates or gaps.
    """
    if cursor:
        key, pk = decode_cursor(cursor, ordering)
        queryset = queryset.filter(ordering.after(key, pk))
    rows = list(queryset.order_by(*ordering.order_by())[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(ordering, getattr(last, ordering.field), last.pk)


def partial_schema(schema: type[Schema], name: str) -> type[Schema]:
    """A copy of `schema` whose fields are all optional and default to "not sent", for PATCH.

    Fields keep their types and constraints, so an explicit null is refused where the create
    schema refuses it; the view reads `payload.dict(exclude_unset=True)` to see what was sent.
    """
    fields = {
        field_name: (
            Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation,
            Field(None, description=info.description),
        )
        for field_name, info in schema.model_fields.items()
    }
    return create_model(name, __base__=BodySchema, **fields)


_PATTERN_PROBLEMS.update(
    {
        EMAIL_PATTERN: "value is not a valid email address",
        NO_NUL: "NUL characters (\\u0000) cannot be stored",
    }
)
