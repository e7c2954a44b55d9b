"""A full-text index kept beside a table: SQLite FTS5, or PostgreSQL tsvector + GIN.

An app describes its index (`FullTextIndex`: a table name and weighted text columns, keyed
by the id of the rows it indexes), writes documents with `replace_documents`, and asks:

- `matching(index, query)`: SQL selecting the ids that match, for `id__in=RawSQL(...)`
  beside the app's own filters (visibility, facets);
- `ranked(index, query, within=...)`: the best ids with a relevance score (higher is better);
- `snippets(index, query, ids)`: for a few ids, the text around the matches with the matched
  words between `MATCH_START` and `MATCH_END`.

Queries come as two renderings of one parsed query (the app's engine makes them): FTS5 syntax
for SQLite and websearch syntax (`websearch_to_tsquery`) for PostgreSQL.

On SQLite the index is an FTS5 table (porter stemming, bm25 with the column weights). On
PostgreSQL it is a table holding the same columns and a generated, weighted `tsvector`
(english configuration) with a GIN index; ranking is `ts_rank` and snippets `ts_headline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from closedloop.core.db.chunks import IDS_PER_STATEMENT, chunked
from closedloop.core.db.vendor import execute, execute_many, fetch, is_postgresql, quote

MATCH_START, MATCH_END = "\x02", "\x03"
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
    params: list = [_query(fts5, websearch)]
    extra = ""
    if within is not None:
        extra = f" AND {_id_column()} IN ({within[0]})"
        params += list(within[1])
    if is_postgresql():
        sql = _pg_ranked(index, extra)
        params = [params[0], *params]
    else:
        weights = ", ".join(str(w) for w in index.weights)
        sql = (
            f"SELECT rowid, -bm25({quote(index.table)}, {weights}) AS score "
            f"FROM {quote(index.table)} WHERE {_where_match(index)}{extra} "
            f"ORDER BY score DESC, rowid LIMIT {int(limit)}"
        )
    if is_postgresql():
        sql += f" LIMIT {int(limit)}"
    return [(int(i), float(s)) for i, s in fetch(sql, params)]


def _pg_ranked(index: FullTextIndex, extra: str) -> str:
    # Normalisation 1: divide by 1 + log(length), so long texts do not win by size alone.
    return (
        "SELECT id, ts_rank('{0.1, 0.2, 0.4, 1.0}', document, "
        "websearch_to_tsquery('english', %s), 1) AS score "
        f"FROM {quote(index.table)} WHERE {_where_match(index)}{extra} "
        "ORDER BY score DESC, id"
    )


def snippets(
    index: FullTextIndex, *, fts5: str, websearch: str, ids: Sequence[int]
) -> dict[int, str]:
    """id -> text around the matches (matched words between MATCH_START and MATCH_END)."""
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    if is_postgresql():
        rows = fetch(_pg_snippets(index, marks), [_pg_headline_options(), websearch, *ids])
    else:
        rows = fetch(_sqlite_snippets(index, marks), [fts5, *ids])
    return {int(i): s or "" for i, s in rows}


def _sqlite_snippets(index: FullTextIndex, marks: str) -> str:
    # The last column (the long text) when it matched, else the best column: the title is on
    # the page already, the words around a match in the text are what a snippet adds.
    table = quote(index.table)
    last = len(index.columns) - 1

    def snippet(column: int) -> str:
        return f"snippet({table}, {column}, char(2), char(3), ' … ', {int(index.snippet_words)})"

    return (
        f"SELECT rowid, CASE WHEN instr({snippet(last)}, char(2)) > 0 THEN {snippet(last)} "
        f"ELSE {snippet(-1)} END FROM {table} WHERE {table} MATCH %s AND rowid IN ({marks})"
    )


def _pg_snippets(index: FullTextIndex, marks: str) -> str:
    text = " || ' · ' || ".join(quote(c) for c in reversed(index.columns))
    return (
        f"SELECT id, ts_headline('english', {text}, q, %s) "
        f"FROM {quote(index.table)}, websearch_to_tsquery('english', %s) q "
        f"WHERE id IN ({marks})"
    )


def _pg_headline_options() -> str:
    return (
        f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=24, MinWords=8, "
        'MaxFragments=1, FragmentDelimiter=" … "'
    )
