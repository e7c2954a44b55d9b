"""One fast INSERT of many rows, for the routing hot path.

bulk_create prepares every field of every row in Python, and psycopg's client-side binding
parses a query with thousands of placeholders: both cost more than the insert itself. On
PostgreSQL the rows travel as one array per column (`INSERT … SELECT * FROM unnest(…)`, a
handful of parameters whatever the row count); elsewhere as one multi-row VALUES statement.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def insert_rows(
    table: str, columns: Sequence[str], pg_types: Sequence[str], rows: list[tuple]
) -> None:
    """Insert `rows` (tuples in `columns` order, already adapted for the database) into `table`.

    `pg_types` are the PostgreSQL array element types of the columns, e.g. "bigint", "text".
    """
    if not rows:
        return
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{t}[]" for t in pg_types)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        cursor.execute(
            f"INSERT INTO {table} ({names}) VALUES " + ", ".join([marks] * len(rows)),
            [value for row in rows for value in row],
        )
