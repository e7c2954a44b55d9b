"""Splitting long lists into pieces one SQL statement can take.

SQLite refuses a statement with more than 32,766 parameters (the default of builds since
3.32); PostgreSQL's protocol allows 65,535. Every statement that binds a value per id or per
row cell stays under the smaller of the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

SQLITE_MAX_PARAMETERS = 32_766
# Values bound per "IN (...)" lookup: far under the limit, leaving room for the statement's
# other parameters, and large enough that a 4 MB tracking batch needs only a few statements.
IDS_PER_STATEMENT = 5_000
# Rows per multi-row INSERT: more rows per statement stop paying beyond a few hundred.
ROWS_PER_STATEMENT = 500


def chunked(values: Iterable[T], size: int) -> Iterator[list[T]]:
    """The values in order, in lists of at most `size` (the last one shorter); none if empty."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    items = values if isinstance(values, Sequence) else list(values)
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def rows_per_statement(columns: int, *, most: int = ROWS_PER_STATEMENT) -> int:
    """How many rows of `columns` values one statement may bind: at most `most`, and never
    more parameters than SQLite takes (with one row as the least)."""
    return max(1, min(most, SQLITE_MAX_PARAMETERS // max(columns, 1)))
