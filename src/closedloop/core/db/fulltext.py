"""A full-text index kept beside a table: SQLite FTS5, or PostgreSQL tsvector + GIN.

An app describes its index (`FullTextIndex`: a table name and weighted text columns, keyed
by the id of the rows it indexes), writes documents with `replace_documents`, and asks:

- `matching(index, query)`: SQL selecting the ids that match, for `id__in=RawSQL(...)`
  beside the app's own filters (visibility, facets);
- `ranked(index, query, within=...)`: the best ids with a relevance score (higher is better).

Snippets are not asked of the databases: FTS5's `snippet()` and PostgreSQL's `ts_headline`
re-read each whole document (measured: 3 ms per 30 KB text on SQLite), so the app cuts its
own from the texts of the few results shown.

Queries come as two renderings of one parsed query (the app's engine makes them): FTS5 syntax
for SQLite and websearch syntax (`websearch_to_tsquery`) for PostgreSQL.

On SQLite the index is an FTS5 table (porter stemming, bm25 with the column weights). On
PostgreSQL it is a table holding the same columns and a generated, weighted `tsvector`
(english configuration) with a GIN index; ranking is `ts_rank`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from closedloop.core.db.chunks import IDS_PER_STATEMENT, chunked
from closedloop.core.db.vendor import execute, execute_many, fetch, is_postgresql, quote

# PostgreSQL refuses a tsvector over 1 MB; indexing the first part of very long texts keeps
# every document under it (the stored text itself is not cut).
MAX_INDEXED_CHARS = 300_000
_PG_WEIGHTS = "ABCD"


@dataclass(frozen=True)
class FullTextIndex:
    table: str
    columns: tuple[str, ...]  # most important first: weights A, B, C, D on PostgreSQL
    weights: tuple[float, ...]  # bm25 column weights on SQLite
    snippet_words: int = 16


def create(index: FullTextIndex) -> None:
    """Create the index table (a migration runs this)."""
    if is_postgresql():
        execute(_pg_create(index))
        execute(
            f"CREATE INDEX {quote(index.table + '_doc')} ON {quote(index.table)} "
            f"USING gin (document)"
        )
    else:
        columns = ", ".join(quote(c) for c in index.columns)
        execute(
            f"CREATE VIRTUAL TABLE {quote(index.table)} USING fts5({columns}, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )


def _pg_create(index: FullTextIndex) -> str:
    vector = " || ".join(
        f"setweight(to_tsvector('english', coalesce({quote(c)}, '')), '{w}')"
        for c, w in zip(index.columns, _PG_WEIGHTS, strict=False)
    )
    columns = ", ".join(f"{quote(c)} text NOT NULL DEFAULT ''" for c in index.columns)
    return (
        f"CREATE TABLE {quote(index.table)} (id bigint PRIMARY KEY, {columns}, "
        f"document tsvector GENERATED ALWAYS AS ({vector}) STORED)"
    )


def drop(index: FullTextIndex) -> None:
    execute(f"DROP TABLE IF EXISTS {quote(index.table)}")


def _id_column() -> str:
    return "id" if is_postgresql() else "rowid"


def delete_documents(index: FullTextIndex, ids: Iterable[int]) -> None:
    for chunk in chunked(list(ids), IDS_PER_STATEMENT):
        marks = ", ".join(["%s"] * len(chunk))
        execute(f"DELETE FROM {quote(index.table)} WHERE {_id_column()} IN ({marks})", chunk)


def replace_documents(index: FullTextIndex, rows: Sequence[tuple]) -> None:
    """Write (id, text per column...) rows, replacing any earlier document of the same id."""
    if not rows:
        return
    delete_documents(index, [r[0] for r in rows])
    names = ", ".join([_id_column(), *(quote(c) for c in index.columns)])
    marks = ", ".join(["%s"] * (len(index.columns) + 1))
    clean = [(r[0], *(_cut(v) for v in r[1:])) for r in rows]
    execute_many(f"INSERT INTO {quote(index.table)} ({names}) VALUES ({marks})", clean)


def _cut(value: str | None) -> str:
    # NUL cannot be stored in PostgreSQL text; extracted text sometimes holds one.
    return (value or "")[:MAX_INDEXED_CHARS].replace("\x00", " ")


def _where_match(index: FullTextIndex) -> str:
    if is_postgresql():
        return "document @@ websearch_to_tsquery('english', %s)"
    return f"{quote(index.table)} MATCH %s"


def _query(fts5: str, websearch: str) -> str:
    return websearch if is_postgresql() else fts5


def matching(index: FullTextIndex, *, fts5: str, websearch: str) -> tuple[str, list]:
    """SQL (and its parameters) selecting the ids of the documents that match."""
    sql = f"SELECT {_id_column()} FROM {quote(index.table)} WHERE {_where_match(index)}"
    return sql, [_query(fts5, websearch)]


def ranked(
    index: FullTextIndex,
    *,
    fts5: str,
    websearch: str,
    within: tuple[str, Sequence] | None = None,
    limit: int = 200,
) -> list[tuple[int, float]]:
    """The best-matching ids (at most `limit`) with their relevance, best first. `within` is
    SQL selecting the ids allowed (e.g. a compiled queryset of visible rows)."""
    allowed_sql, allowed_params = within if within is not None else (None, ())
    if is_postgresql():
        sql = _pg_ranked(index, allowed_sql, limit)
        params = [websearch, websearch, *allowed_params]
    else:
        sql = _sqlite_ranked(index, allowed_sql, limit)
        params = [fts5, *allowed_params]
    return [(int(i), float(s)) for i, s in fetch(sql, params)]


def _sqlite_ranked(index: FullTextIndex, allowed: str | None, limit: int) -> str:
    # The matches are ranked once, as a materialised table, and only then checked against
    # `allowed`: written as one WHERE, SQLite may run the full-text query once per allowed id.
    weights = ", ".join(str(w) for w in index.weights)
    table = quote(index.table)
    where = f"WHERE id IN ({allowed})" if allowed else ""
    return (
        f"WITH matched AS MATERIALIZED (SELECT rowid AS id, -bm25({table}, {weights}) AS score "
        f"FROM {table} WHERE {table} MATCH %s) "
        f"SELECT id, score FROM matched {where} ORDER BY score DESC, id LIMIT {int(limit)}"
    )


def _pg_ranked(index: FullTextIndex, allowed: str | None, limit: int) -> str:
    # Normalisation 1: divide by 1 + log(length), so long texts do not win by size alone.
    extra = f" AND id IN ({allowed})" if allowed else ""
    return (
        "SELECT id, ts_rank('{0.1, 0.2, 0.4, 1.0}', document, "
        "websearch_to_tsquery('english', %s), 1) AS score "
        f"FROM {quote(index.table)} WHERE {_where_match(index)}{extra} "
        f"ORDER BY score DESC, id LIMIT {int(limit)}"
    )
