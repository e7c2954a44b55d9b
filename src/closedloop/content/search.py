"""The library's full-text index: what is indexed per asset, and keeping it in step.

The index itself (SQLite FTS5 or PostgreSQL tsvector + GIN) lives in `core/db/fulltext.py`;
this module says what goes in: an asset's title, tags, description and the extracted text of
its current version. Services call `index_assets` after every change that alters those.
"""

from __future__ import annotations

from collections.abc import Iterable

from closedloop.content.models import ContentAsset
from closedloop.core.db import fulltext
from closedloop.core.db.chunks import chunked
from closedloop.core.db.vendor import execute, quote

# Columns most important first (PostgreSQL weights A-D); bm25 weights on SQLite.
INDEX = fulltext.FullTextIndex(
    "content_search", ("title", "tags", "description", "body"), (10.0, 5.0, 3.0, 1.0)
)
_BATCH = 500


def _documents(ids: list[int]) -> list[tuple]:
    rows = ContentAsset.objects.filter(pk__in=ids).values_list(
        "pk", "title", "tags", "description", "current_version__extracted_text"
    )
    return [
        (pk, title, tags.replace(",", " "), desc, body or "")
        for pk, title, tags, desc, body in rows
    ]


def index_assets(ids: Iterable[int]) -> None:
    """Write (or rewrite) the index documents of these assets; ids of deleted assets are
    dropped from the index."""
    for chunk in chunked(list(ids), _BATCH):
        fulltext.delete_documents(INDEX, chunk)
        fulltext.replace_documents(INDEX, _documents(chunk))


def rebuild_index() -> int:
    """Empty the index and index every asset again (after a bulk load); returns the count."""
    execute(f"DELETE FROM {quote(INDEX.table)}")
    ids = list(ContentAsset.objects.order_by("pk").values_list("pk", flat=True))
    index_assets(ids)
    return len(ids)
