"""Column arrays straight into a table: SQLite `executemany`, PostgreSQL `COPY`.

The ORM would spend minutes on a million leads; `write_columns` writes NumPy column arrays
(one per attname) into a model's table, in the caller's transaction. Conventions of the
arrays: datetimes and dates as int64 epoch seconds with MISSING_TIME for NULL, nullable
integers (foreign keys) negative for NULL, floats NaN for NULL. They bypass save(), so the
caller records the load with `record_bulk`. Also here: emptying tables with everything that
depends on them, and moving id sequences past explicitly written ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models

from closedloop.core.db import vendor

CHUNK_ROWS = 50_000
# NULL in a datetime or date column array (closedloop.demo.synth uses the same value).
MISSING_TIME = int(np.iinfo(np.int64).min)


def _texts(values: np.ndarray) -> list:
    return values.tolist() if values.dtype == object else values.astype(object).tolist()


def _times(values: np.ndarray, *, date: bool) -> list:
    """Epoch seconds as the database wants them. SQLite formats them itself in the INSERT
    (`_placeholder`), which is cheaper than making ten million strings in Python."""
    values = np.asarray(values, dtype=np.int64)
    missing = values == MISSING_TIME
    if vendor.is_sqlite():
        out = values.astype(object)
    else:
        stamps = np.where(missing, 0, values).astype("datetime64[s]")
        if date:
            out = np.datetime_as_string(stamps, unit="D").astype(object)
        else:
            out = np.strings.add(np.datetime_as_string(stamps, unit="s"), "+00").astype(object)
    out[missing] = None
    return out.tolist()


def _placeholder(field: models.Field) -> str:
    # The same text Django stores: 'YYYY-MM-DD HH:MM:SS' and 'YYYY-MM-DD', in UTC.
    if isinstance(field, models.DateTimeField):
        return "datetime(?, 'unixepoch')"
    if isinstance(field, models.DateField):
        return "date(?, 'unixepoch')"
    return "?"


def _numbers(values: np.ndarray, field: models.Field) -> list:
    values = np.asarray(values)
    if isinstance(field, models.DecimalField):
        out = np.array([f"{v:.{field.decimal_places}f}" for v in values.tolist()], dtype=object)
        return out.tolist()
    if isinstance(field, models.FloatField):
        out = values.astype(object)
        out[np.isnan(values.astype(float))] = None
        return out.tolist()
    if field.null:
        out = values.astype(object)
        out[values < 0] = None
        return out.tolist()
    return values.tolist()


def _db_values(field: models.Field, values: np.ndarray) -> list:
    if isinstance(field, models.DateTimeField):
        return _times(values, date=False)
    if isinstance(field, models.DateField):
        return _times(values, date=True)
    if isinstance(
        field,
        models.FloatField
        | models.IntegerField
        | models.DecimalField
        | models.ForeignKey
        | models.AutoField
        | models.BigAutoField,
    ):
        return _numbers(values, field)
    if isinstance(field, models.BooleanField):
        return np.asarray(values, dtype=bool).tolist()
    return _texts(np.asarray(values))


def _default(field: models.Field):
    """What a column not given by the generator holds: the field's default, else NULL or ''."""
    if field.has_default():
        value = field.get_default()
        if isinstance(field, models.DateTimeField | models.DateField):
            raise ValueError(f"{field.model.__name__}.{field.name}: give dates explicitly")
        return json.dumps(value) if isinstance(field, models.JSONField) else value
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField | models.FileField):
        return ""
    raise ValueError(
        f"{field.model.__name__}.{field.name} has no default; the generator must fill it"
    )


def write_columns(
    model: type[models.Model],
    columns: dict[str, np.ndarray],
    *,
    advance: Callable[[int], None] = lambda rows: None,
    chunk: int = CHUNK_ROWS,
) -> int:
    """Insert the rows given as column arrays (keyed by attname) into `model`'s table.

    Columns not given get the field default. Returns the number of rows written.
    """
    fields = list(model._meta.concrete_fields)
    unknown = set(columns) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
    count = len(next(iter(columns.values())))
    defaults = {f.attname: _default(f) for f in fields if f.attname not in columns}
    given = [f for f in fields if f.attname in columns]
    # A column that is the very same array as an earlier one (received_at = occurred_at) is
    # converted and, on SQLite, bound once.
    first_of = {}
    for f in given:
        first_of.setdefault(id(columns[f.attname]), f)
    bound = [f for f in given if first_of[id(columns[f.attname])] is f]
    insert = _insert_statement(
        model,
        fields,
        defaults,
        {f.attname: bound.index(first_of[id(columns[f.attname])]) + 1 for f in given},
    )
    for start in range(0, count, chunk):
        stop = min(start + chunk, count)
        converted = {f.attname: _db_values(f, columns[f.attname][start:stop]) for f in bound}
        if vendor.is_postgresql():
            lists = [converted[first_of[id(columns[f.attname])].attname] for f in given]
            lists += [[defaults[f.attname]] * (stop - start) for f in fields if f not in given]
        else:
            lists = [converted[f.attname] for f in bound]
        _write_chunk(insert, zip(*lists, strict=True))
        advance(stop - start)
    return count


def _insert_statement(model, fields, defaults: dict, parameter: dict[str, int]) -> str:
    quote = vendor.quote
    table = vendor.table(model)
    if vendor.is_postgresql():
        # COPY takes every column; the defaults ride along in each row.
        order = [f for f in fields if f.attname not in defaults]
        order += [f for f in fields if f.attname in defaults]
        return f"COPY {table} ({', '.join(quote(f.column) for f in order)}) FROM STDIN"
    # SQLite: bind only the generated columns; the constant ones are literals in the statement.
    names, values = [], []
    for f in fields:
        names.append(quote(f.column))
        if f.attname in defaults:
            values.append(_literal(defaults[f.attname]))
        else:
            values.append(_placeholder(f).replace("?", f"?{parameter[f.attname]}"))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _write_chunk(statement: str, rows: Iterator[tuple]) -> None:
    connection.ensure_connection()
    raw = connection.connection
    if vendor.is_postgresql():
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor = raw.cursor()
        try:
            cursor.executemany(statement, rows)
        finally:
            cursor.close()


@contextmanager
def fast_load() -> Iterator[None]:
    """For a large load outside any transaction: on SQLite, no per-row foreign key checks (the
    caller assigns every id itself), a 512 MiB page cache and helper threads for the index
    sorts; nothing elsewhere."""
    with vendor.sqlite_pragmas(foreign_keys=0, cache_size=-524_288, threads=4):
        yield


def reset_sequences(model_list: list[type[models.Model]]) -> None:
    """After writing explicit ids, move PostgreSQL's id sequences past them (no-op on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def delete_all(model_list: list[type[models.Model]]) -> dict[str, int]:
    """Empty the tables of `model_list` with raw DELETEs, and every table that depends on them:
    rows that cascade are deleted, nullable references elsewhere are set to NULL.
    Returns {model label: rows deleted}. Run it inside a transaction (constraints are deferred)."""
    doomed = list(model_list)
    nulled: list[tuple[type[models.Model], models.ForeignKey]] = []
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model in doomed:
                continue
            for field in model._meta.concrete_fields:
                if not field.is_relation or field.related_model not in doomed:
                    continue
                if field.remote_field.on_delete is models.CASCADE or not field.null:
                    doomed.insert(0, model)
                    changed = True
                    break
                if (model, field) not in nulled:
                    nulled.append((model, field))
    quote = connection.ops.quote_name
    deleted: dict[str, int] = {}
    with connection.cursor() as cursor:
        for model, field in nulled:
            if model in doomed:
                continue
            cursor.execute(
                f"UPDATE {quote(model._meta.db_table)} SET {quote(field.column)} = NULL "
                f"WHERE {quote(field.column)} IS NOT NULL"
            )
        for model in doomed:
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")
            deleted[model._meta.label] = max(cursor.rowcount, 0)
    return deleted
