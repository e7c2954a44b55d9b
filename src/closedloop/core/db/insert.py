"""Many rows into a model's table in few statements, with conflict handling and RETURNING.

`Model.objects.bulk_create` builds a model instance per row and prepares every value through
the field API: ~1,100 leads/s on SQLite here, far too slow for imports of a million rows or a
tracking endpoint's 10 ms budget. These writers prepare each column once and send:

- SQLite: `INSERT ... VALUES (...), (...)` on the driver's cursor, under the parameter limit;
- PostgreSQL: `INSERT ... SELECT ... FROM jsonb_to_recordset(%s)`, the rows as ONE jsonb
  document (orjson), since psycopg parses and quotes each of a statement's parameters in
  Python: a 100-row VALUES list cost ~4 ms of server CPU where the document costs ~0.3 ms.

Both accept `ON CONFLICT (...) DO NOTHING | DO UPDATE` and `RETURNING` (SQLite >= 3.35).
Like bulk_create they bypass save() and signals: callers record the audit entry themselves
(`closedloop.core.audit.record_bulk`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from closedloop.core.db import vendor
from closedloop.core.db.chunks import chunked, rows_per_statement

# Rows per jsonb document on PostgreSQL: bounds the memory of one statement.
PG_ROWS_PER_STATEMENT = 10_000


@dataclass(frozen=True)
class OnConflict:
    """What to do with a row that breaks the unique constraint on `target` (column names):
    skip it (`update` empty), or overwrite the columns `update` of the stored row."""

    target: tuple[str, ...]
    update: tuple[str, ...] = ()

    def sql(self, model: type[models.Model]) -> str:
        names = ", ".join(vendor.column(model, name) for name in self.target)
        if not self.update:
            return f" ON CONFLICT ({names}) DO NOTHING"
        sets = ", ".join(
            f"{vendor.column(model, n)} = excluded.{vendor.column(model, n)}" for n in self.update
        )
        return f" ON CONFLICT ({names}) DO UPDATE SET {sets}"


def ignore(*target: str) -> OnConflict:
    """Skip rows whose `target` columns match a stored row."""
    return OnConflict(tuple(target))


def upsert(target: Sequence[str], *, update: Sequence[str]) -> OnConflict:
    """Overwrite the `update` columns of the stored row whose `target` columns match."""
    return OnConflict(tuple(target), tuple(update))


# --- value adapters per field ----------------------------------------------------------------


def _sqlite_adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a Python value of the field becomes a SQLite parameter; None: as it is."""
    if isinstance(field, models.DateTimeField):
        return vendor.sqlite_datetime
    if isinstance(field, models.DateField):
        return operator.methodcaller("isoformat")
    if isinstance(field, models.JSONField):
        return vendor.json_text
    if isinstance(field, models.DecimalField | models.UUIDField):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _adapt_columns(columns: list[tuple], adapters: list) -> list[tuple]:
    """Each column of values through its adapter (None stays None). Equal neighbours, such as
    a batch's shared "now", are converted once."""
    out = []
    for values, adapt in zip(columns, adapters, strict=True):
        if adapt is None:
            out.append(values)
            continue
        converted, last, last_out = [], object(), None
        for value in values:
            if value is not last:
                last, last_out = value, (None if value is None else adapt(value))
            converted.append(last_out)
        out.append(converted)
    return out


# --- the writer ------------------------------------------------------------------------------


class Inserter:
    """A prepared INSERT of rows (tuples of Python values in `columns` order, attnames) into
    `model`'s table; the model's other columns get their field defaults (auto_now: now).
    Build one with `inserter(...)`, which keeps it for reuse."""

    def __init__(
        self,
        model: type[models.Model],
        columns: tuple[str, ...],
        on_conflict: OnConflict | None,
        returning: str | None,
    ):
        meta = model._meta
        given = [meta.get_field(name) for name in columns]
        self.defaulted = [f for f in meta.concrete_fields if not f.primary_key and f not in given]
        self.fields = given + self.defaulted
        names = ", ".join(vendor.quote(f.column) for f in self.fields)
        self.prefix = f"INSERT INTO {vendor.table(model)} ({names}) "
        self.suffix = on_conflict.sql(model) if on_conflict else ""
        if returning:
            self.suffix += f" RETURNING {vendor.column(model, returning)}"
        self.returning = returning
        self.postgresql = vendor.is_postgresql()
        if self.postgresql:
            types = ", ".join(
                f"{vendor.quote(f.column)} {f.db_type(connection)}" for f in self.fields
            )
            self.source = f"SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS r({types})"
            self.keys = [f.column for f in self.fields]
        else:
            self.adapters = [_sqlite_adapter(f) for f in self.fields]
            self.batch = rows_per_statement(len(self.fields))
            self.row_sql = "(" + ", ".join(["?"] * len(self.fields)) + ")"

    def insert(self, rows: Sequence[Sequence[Any]]) -> list:
        """Insert the rows in the caller's transaction. Returns the `returning` column of each
        row actually inserted, in order (rows skipped on conflict are absent); [] without
        `returning`."""
        if not rows:
            return []
        if self.defaulted:
            defaults = _defaults(self.defaulted)
            rows = [(*row, *defaults) for row in rows]
        if self.postgresql:
            return self._insert_postgresql(rows)
        return self._insert_sqlite(rows)

    def _insert_sqlite(self, rows: Sequence[Sequence[Any]]) -> list:
        out: list = []
        with vendor.cursor() as cursor:
            for batch in chunked(rows, self.batch):
                columns = _adapt_columns(list(zip(*batch, strict=True)), self.adapters)
                sql = self.prefix + "VALUES " + ", ".join([self.row_sql] * len(batch))
                cursor.execute(
                    sql + self.suffix, list(chain.from_iterable(zip(*columns, strict=True)))
                )
                if self.returning:
                    out += [row[0] for row in cursor.fetchall()]
        return out

    def _insert_postgresql(self, rows: Sequence[Sequence[Any]]) -> list:
        out: list = []
        keys = self.keys
        with connection.cursor() as cursor:
            for batch in chunked(rows, PG_ROWS_PER_STATEMENT):
                document = vendor.json_text([dict(zip(keys, row, strict=True)) for row in batch])
                cursor.execute(self.prefix + self.source + self.suffix, [document])
                if self.returning:
                    out += [row[0] for row in cursor.fetchall()]
        return out


@lru_cache(maxsize=128)
def _cached(model, columns, on_conflict, returning, vendor_name) -> Inserter:
    return Inserter(model, columns, on_conflict, returning)


def inserter(
    model: type[models.Model],
    columns: Sequence[str],
    *,
    on_conflict: OnConflict | None = None,
    returning: str | None = None,
) -> Inserter:
    """The INSERT for these columns (attnames) of `model`, kept per database kind: building
    it costs more than a small insert on the tracking hot path."""
    return _cached(model, tuple(columns), on_conflict, returning, connection.vendor)


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    on_conflict: OnConflict | None = None,
    returning: str | None = None,
) -> list:
    """Insert `rows` (tuples of Python values in `columns` order) into `model`'s table.

    Returns the `returning` column of each row inserted, in order; [] without `returning`.
    """
    return inserter(model, columns, on_conflict=on_conflict, returning=returning).insert(rows)


# --- rows as dicts, with the model's defaults ------------------------------------------------


def _defaults(fields: list[models.Field]) -> tuple:
    """Per column: what a row that does not name it holds (auto_now fields: now)."""
    now = timezone.now()
    out = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            out.append(now)
        elif field.has_default() or not field.null:
            out.append(field.get_default())
        else:
            out.append(None)
    return tuple(out)


def insert_dicts(
    model: type[models.Model], rows: Sequence[dict], *, returning: str | None = "id"
) -> list:
    """Insert rows given as {attname: value} into `model`'s table; a column a row does not
    name gets the field's default (auto_now fields: now); keys that are not columns are
    ignored. Returns the new ids (the `returning` column) in order."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    defaults = dict(zip(names, _defaults(fields), strict=True))
    take = operator.itemgetter(*names)
    # One C call per row takes the values in column order from the defaults overlaid with
    # the row: a Python loop over every column of every row cost more than the INSERT.
    if len(names) > 1:
        tuples = [take({**defaults, **row}) for row in rows]
    else:
        tuples = [(take({**defaults, **row}),) for row in rows]
    return insert_rows(model, names, tuples, returning=returning)


# --- updates ---------------------------------------------------------------------------------


def update_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: str = "id",
    json_as_text: bool = False,
    per_transaction: int = 5_000,
) -> int:
    """Set `columns` (attnames) of the rows whose `key` is the last value of each tuple.

    `rows`: (value per column..., key). With `json_as_text`, JSON columns' values are JSON text
    already. Committed `per_transaction` rows at a time, which keeps SQLite's write lock short
    for the web requests. Returns how many tuples were applied."""
    fields = [model._meta.get_field(name) for name in columns]
    sets = ", ".join(
        f"{vendor.quote(f.column)} = "
        + (vendor.json_placeholder() if isinstance(f, models.JSONField) else "%s")
        for f in fields
    )
    sql = f"UPDATE {vendor.table(model)} SET {sets} WHERE {vendor.column(model, key)} = %s"
    adapters = [_update_adapter(f, json_as_text) for f in fields] + [None]
    for part in chunked(rows, per_transaction):
        with transaction.atomic():
            vendor.execute_many(sql, _adapt_rows(part, adapters))
    return len(rows)


def _adapt_rows(rows: Sequence[Sequence[Any]], adapters: list) -> Sequence[Sequence[Any]]:
    """The rows with each value of an adapted column through its adapter (None stays None);
    a value repeated down a column (a shared "now") is converted once."""
    needs = [(i, adapt) for i, adapt in enumerate(adapters) if adapt is not None]
    if not needs:
        return rows
    last: dict[int, list] = {i: [object(), None] for i, _ in needs}
    out = []
    for row in rows:
        values = list(row)
        for i, adapt in needs:
            value = values[i]
            if value is not None:
                seen = last[i]
                if value is not seen[0]:
                    seen[0], seen[1] = value, adapt(value)
                values[i] = seen[1]
        out.append(values)
    return out


def _update_adapter(field: models.Field, json_as_text: bool) -> Callable[[Any], Any] | None:
    if isinstance(field, models.JSONField):
        return None if json_as_text else vendor.json_text
    if vendor.is_sqlite():
        return _sqlite_adapter(field)
    return None
