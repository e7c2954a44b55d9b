"""A table's secondary indexes, dropped for a large load and built again after it.

A million new rows into a table with a dozen secondary indexes cost a random B-tree insert
per index per row, and once the table outgrows the page cache most of those inserts read and
write pages of the file. Building an index after the load is one sort.

Two ways to do it:
- `indexes_dropped`: within the load's own transaction (the demo loader: all or nothing).
- `drop_recorded` / `rebuild_recorded`: crash-safe, for loads committed in many
  transactions (imports). DDL is transactional on both databases: the DROPs commit in one
  transaction with the list of dropped indexes recorded by the caller's `record` function,
  and each CREATE INDEX commits with that list shortened, so at any moment the record names
  exactly the indexes that are missing. Whoever runs next builds them (IF NOT EXISTS makes
  two builders harmless).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypedDict

from django.db import connection, models, transaction

from closedloop.core.db import vendor


class Index(TypedDict):
    """A dropped or droppable index, as JSON can store it."""

    table: str
    name: str
    sql: str  # the CREATE INDEX statement that builds it again


# Saves the list of indexes still missing, in the transaction it is called in.
Record = Callable[[list[Index]], None]


def _listed(table: str) -> list[tuple[str, str, str | None]]:
    """(name, definition, first column) of each index of `table` not backing a constraint."""
    if vendor.is_postgresql():
        rows = vendor.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname "
            "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) "
            "ORDER BY indexname",
            [table, table],
        )
        return [(name, sql, _first_column(sql)) for name, sql in rows]
    # Indexes backing a constraint (sqlite_autoindex_*) have no SQL and cannot be dropped.
    rows = vendor.fetch(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
        "AND sql IS NOT NULL ORDER BY name",
        [table],
    )
    out = []
    for name, sql in rows:
        columns = vendor.fetch(f"PRAGMA index_info({vendor.quote(name)})")
        out.append((name, sql, columns[0][2] if columns else None))
    return out


def _first_column(definition: str) -> str | None:
    match = re.search(r"\(\s*\"?(\w+)\"?\s*[,)]", definition)
    return match[1] if match else None


def _names_any(definition: str, columns: Sequence[str]) -> bool:
    """True when the indexed part of `definition` (after ON table) names one of `columns`,
    plainly or inside an expression such as LOWER("email")."""
    on = definition.upper().find(" ON ")
    indexed = definition[definition.find("(", on) :]
    return any(re.search(rf"\b{re.escape(c)}\b", indexed) for c in columns)


def secondary_indexes(
    model: type[models.Model],
    *,
    keep_columns: Sequence[str] = (),
    keep_leading: Sequence[str] = (),
    keep_unique: bool = False,
) -> list[Index]:
    """The indexes of `model`'s table that a load may drop: none backing a constraint, none
    naming a column of `keep_columns` (a load that looks rows up by them needs them), none
    whose first column is in `keep_leading` (rows arrive in that order, so their inserts only
    append), and, with `keep_unique`, no unique index."""
    table = model._meta.db_table
    return [
        Index(table=table, name=name, sql=sql)
        for name, sql, first in _listed(table)
        if first not in keep_leading
        and not _names_any(sql, keep_columns)
        and not (keep_unique and sql.upper().startswith("CREATE UNIQUE"))
    ]


def droppable_for_load(model: type[models.Model], *, keep_columns: Sequence[str]) -> list[Index]:
    """What a load committed in many transactions (an import) may drop: the non-unique
    secondary indexes not on `keep_columns`. On SQLite only, where it was measured to pay
    (a million-row import took minutes less); [] on PostgreSQL."""
    if not vendor.is_sqlite():
        return []
    return secondary_indexes(model, keep_columns=keep_columns, keep_unique=True)


def _drop(indexes: Sequence[Index]) -> None:
    with connection.cursor() as cursor:
        for index in indexes:
            cursor.execute(f"DROP INDEX {vendor.quote(index['name'])}")


def _build(index: Index) -> None:
    sql = re.sub(
        r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX IF NOT EXISTS ", index["sql"], count=1
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


# --- crash-safe, across many transactions ---------------------------------------------------


def drop_recorded(
    indexes: Sequence[Index], *, recorded: Sequence[Index], record: Record
) -> list[Index]:
    """Drop `indexes` and record them after those `recorded` already, in one transaction.
    Returns the new record (the indexes now missing)."""
    missing = [*recorded, *indexes]
    if not indexes:
        return missing
    with transaction.atomic():
        _drop(indexes)
        record(missing)
    return missing


def build_first(missing: Sequence[Index], *, record: Record) -> list[Index]:
    """Build the first of the `missing` indexes and record the rest, in one transaction;
    returns the rest."""
    rest = list(missing[1:])
    with transaction.atomic():
        _build(missing[0])
        record(rest)
    return rest


def rebuild_recorded(missing: Sequence[Index], *, record: Record) -> int:
    """Build every index of `missing`, each committed with the shortened record; returns how
    many were built. Safe to run twice or in two processes (IF NOT EXISTS)."""
    left, built = list(missing), 0
    while left:
        left = build_first(left, record=record)
        built += 1
    return built


# --- within one transaction -------------------------------------------------------------------


@contextmanager
def indexes_dropped(
    model: type[models.Model], *, when: bool = True, keep_leading: Sequence[str] = ()
) -> Iterator[None]:
    """Drop the table's secondary indexes for the block and build them again after it, in the
    caller's transaction. Indexes whose first column is in `keep_leading` stay."""
    if not when:
        yield
        return
    indexes = secondary_indexes(model, keep_leading=keep_leading)
    _drop(indexes)
    yield
    if not indexes:
        return
    with connection.cursor() as cursor:
        if vendor.is_postgresql():
            # PostgreSQL will not index a table with deferred foreign key checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for index in indexes:
            cursor.execute(index["sql"])
        if vendor.is_postgresql():
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
