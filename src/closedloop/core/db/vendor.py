"""What differs between SQLite and PostgreSQL, in one module.

SQL fragments (epoch seconds, JSON casts, "one of these values"), value adapters for raw
statements, planner statistics, SQLite pragmas for bulk loads, and `fetch`/`execute`, which
run a statement on the driver's own cursor where Django's wrapper costs more than the query.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, models

from closedloop.core.db.chunks import IDS_PER_STATEMENT, chunked

# Rows SQLite samples per index when analysing: approximate statistics in well under a second
# at millions of rows, which is all the planner needs to pick the right index.
SQLITE_ANALYSIS_LIMIT = 1000
# Pragmas SQLite ignores or refuses inside a transaction.
_OUTSIDE_TRANSACTION = frozenset({"foreign_keys", "synchronous"})


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def single_writer() -> bool:
    """True when the database lets one transaction write at a time (SQLite): writers gain by
    sharing one transaction and one commit; PostgreSQL groups concurrent commits itself."""
    return is_sqlite()


# --- names -------------------------------------------------------------------------------


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[models.Model]) -> str:
    """The model's table name, quoted for SQL."""
    return quote(model._meta.db_table)


def column(model: type[models.Model], name: str) -> str:
    """The column of the model's field `name` (a name or an attname), quoted for SQL."""
    return quote(model._meta.get_field(name).column)


# --- SQL fragments -----------------------------------------------------------------------


def epoch_seconds(expression: str) -> str:
    """SQL for a datetime column as float seconds since 1970 (UTC)."""
    if is_sqlite():
        return f"((julianday({expression}) - 2440587.5) * 86400.0)"
    return f"extract(epoch from {expression})::double precision"  # a float, not a Decimal


def json_as_text(expression: str) -> str:
    """SQL reading a JSON column as its text (SQLite stores the text; PostgreSQL jsonb)."""
    return f"{expression}::text" if is_postgresql() else expression


def json_placeholder() -> str:
    """The placeholder that binds JSON text to a JSON column."""
    return "%s::jsonb" if is_postgresql() else "%s"


def one_of(expression: str, values: Sequence[Any]) -> tuple[str, list]:
    """SQL "expression is one of values" and its parameters.

    PostgreSQL takes the values as ONE array parameter: psycopg parses in Python every
    statement of more than 50 parameters. SQLite has no arrays: one parameter per value, so
    keep `values` under the parameter limit (`one_of_chunks` does)."""
    if is_postgresql():
        return f"{expression} = ANY(%s)", [list(values)]
    return f"{expression} IN ({', '.join(['%s'] * len(values))})", list(values)


def one_of_chunks(
    expression: str, values: Sequence[Any], *, size: int = IDS_PER_STATEMENT
) -> Iterator[tuple[str, list]]:
    """`one_of` for any number of values: one piece on PostgreSQL, pieces of `size` values on
    SQLite. Yields nothing for no values."""
    if not values:
        return
    if is_postgresql():
        yield one_of(expression, values)
        return
    for part in chunked(values, size):
        yield one_of(expression, part)


# --- values ------------------------------------------------------------------------------


def adapt_datetime(value: datetime) -> Any:
    """A datetime as a raw statement binds it: on SQLite the naive UTC text Django stores
    ('YYYY-MM-DD HH:MM:SS[.ffffff]'), without its per-call zone lookups; elsewhere as is."""
    if not is_sqlite():
        return value
    return sqlite_datetime(value)


def sqlite_datetime(value: datetime) -> str:
    if value.tzinfo is UTC:
        return value.isoformat(" ")[:-6]  # drop the "+00:00"
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value)


def adapt_date(value: date) -> Any:
    return value.isoformat() if is_sqlite() else value


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return _json_default(value)


_JSON = json.JSONEncoder(separators=(",", ":"), default=_iso)


def json_text(value: Any) -> str:
    """Compact JSON text; datetimes as ISO 8601 with their UTC offset, Decimals as strings."""
    try:
        return orjson.dumps(value, default=_json_default).decode()  # ~10x faster than json
    except (orjson.JSONEncodeError, TypeError):  # e.g. an integer over 64 bits
        return _JSON.encode(value)


# --- running statements -------------------------------------------------------------------


def _sqlite_marks(sql: str) -> str:
    # Django's SQLite wrapper rewrites "%s" with a regular expression, slow on statements of
    # thousands of parameters; the statements given here hold no literal "%s".
    return sql.replace("%s", "?").replace("%%", "%")


@contextmanager
def cursor() -> Iterator[Any]:
    """The driver's own cursor on SQLite (errors still become Django's), Django's elsewhere."""
    if not is_sqlite():
        with connection.cursor() as wrapped:
            yield wrapped
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, closing(connection.connection.cursor()) as raw:
        yield raw


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Run a query with "%s" placeholders; returns every row."""
    with cursor() as cur:
        cur.execute(_sqlite_marks(sql) if is_sqlite() else sql, params)
        return cur.fetchall()


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    """Run a statement with "%s" placeholders; returns the rows it changed."""
    with cursor() as cur:
        cur.execute(_sqlite_marks(sql) if is_sqlite() else sql, params)
        return max(cur.rowcount, 0)


def execute_many(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run a statement with "%s" placeholders once per parameter row."""
    with cursor() as cur:
        cur.executemany(_sqlite_marks(sql) if is_sqlite() else sql, rows)


# --- upkeep -------------------------------------------------------------------------------


def refresh_statistics() -> None:
    """ANALYZE, so the planner can tell a selective index from a poor one (SQLite samples
    SQLITE_ANALYSIS_LIMIT rows per index, enough and far faster at millions of rows)."""
    with connection.cursor() as cursor:
        if is_sqlite():
            cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")


def checkpoint_wal() -> None:
    """On SQLite outside a transaction, copy the write-ahead log into the database file and
    truncate it (so deleted data leaves the log too); nothing elsewhere."""
    if is_sqlite() and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Pragmas:
    """What `sqlite_pragmas` yields: `restore(name)` gives one pragma its old value early."""

    def __init__(self, saved: dict[str, Any]):
        self.saved = saved

    def restore(self, name: str) -> None:
        if name in self.saved:
            _set_pragma(name, self.saved[name])


def _set_pragma(name: str, value: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name} = {int(value)}")


@contextmanager
def sqlite_pragmas(**settings: int) -> Iterator[Pragmas]:
    """On SQLite, set these integer pragmas for the block and put the old values back after;
    nothing elsewhere. Inside a transaction, `foreign_keys` and `synchronous` are left alone
    (SQLite ignores or refuses them there)."""
    if not is_sqlite():
        yield Pragmas({})
        return
    wanted = {
        name: value
        for name, value in settings.items()
        if not (connection.in_atomic_block and name in _OUTSIDE_TRANSACTION)
    }
    saved = {}
    with connection.cursor() as cursor:
        for name in wanted:
            cursor.execute(f"PRAGMA {name}")
            saved[name] = cursor.fetchone()[0]
    for name, value in wanted.items():
        _set_pragma(name, value)
    try:
        yield Pragmas(saved)
    finally:
        for name, value in saved.items():
            _set_pragma(name, value)
