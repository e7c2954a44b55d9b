"""Finding content: one search function for every door, the search log and content gaps."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from closedloop.content.engine import search as engine
from closedloop.content.models import AssetKind, ContentAsset, Persona, SearchLog
from closedloop.content.permissions import visible_assets
from closedloop.content.search import INDEX
from closedloop.core.db import fulltext
from closedloop.core.models import User
from closedloop.crm.models import LifecycleStage

FACETS = ("kind", "persona", "stage", "industry", "product")
_LABELS = {
    "kind": dict(AssetKind.choices),
    "persona": dict(Persona.choices),
    "stage": dict(LifecycleStage.choices),
}
# Relevance picks this many candidates; measured effectiveness then re-orders them.
CANDIDATES = 200
# Coveo's yardstick: fewer than 5% of searches should find nothing.
NO_RESULT_TARGET = 0.05


@dataclass
class Hit:
    asset: ContentAsset
    score: float
    snippet: str = ""  # with engine.MATCH_START/END around matched words

    @property
    def snippet_html(self) -> str:
        return engine.highlight(self.snippet)

    @property
    def snippet_text(self) -> str:
        return engine.plain_snippet(self.snippet)


@dataclass
class Results:
    query: str
    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    log_id: int | None = None


def search_assets(
    user: User | None,
    text: str,
    *,
    filters: dict[str, str] | None = None,
    limit: int = 20,
    offset: int = 0,
    log: bool = True,
) -> Results:
    """Assets `user` may see that match `text` (title, tags, description, file text) and the
    facet `filters` (kind, persona, stage, industry, product), best first, with snippets and
    facet counts. An empty text lists the assets by effectiveness and freshness. Every search
    with text is logged (the content-gaps page reads the log)."""
    # NUL cannot reach PostgreSQL; it is never part of a word either.
    text = text.replace("\x00", "")
    filters = {k: v.replace("\x00", "") for k, v in (filters or {}).items() if k in FACETS and v}
    base = visible_assets(user).filter(**filters)
    query = engine.parse_query(text)
    if query.empty:
        results = _browse(base, limit=limit, offset=offset)
    else:
        results = _search(base, query, limit=limit, offset=offset)
    results.query = text
    if log and text.strip():
        results.log_id = log_search(user, text, filters=filters, result_count=results.total)
    return results


def _browse(base: QuerySet, *, limit: int, offset: int) -> Results:
    ordered = base.order_by("-effectiveness", "-updated_at", "pk")
    ordered = ordered.select_related("current_version")
    hits = [Hit(a, 0.0, a.description[:200]) for a in ordered[offset : offset + limit]]
    facets, total = facet_counts(base)
    return Results("", hits, total, facets)


def _search(base: QuerySet, query: engine.SearchQuery, *, limit: int, offset: int) -> Results:
    rendered = {"fts5": query.as_fts5(), "websearch": query.as_websearch()}
    within = base.values("pk").query.sql_with_params()
    ranked = fulltext.ranked(INDEX, **rendered, within=within, limit=CANDIDATES)
    effect = dict(
        ContentAsset.objects.filter(pk__in=[i for i, _ in ranked]).values_list(
            "pk", "effectiveness"
        )
    )
    scored = sorted(((engine.blend(s, effect.get(i)), i) for i, s in ranked), reverse=True)
    page = scored[offset : offset + limit]
    ids = [i for _, i in page]
    snippets = fulltext.snippets(INDEX, **rendered, ids=ids)
    assets = ContentAsset.objects.select_related("current_version").in_bulk(ids)
    hits = [Hit(assets[i], float(f"{s:.4g}"), snippets.get(i, "")) for s, i in page if i in assets]
    matched = base.filter(pk__in=RawSQL(*fulltext.matching(INDEX, **rendered)))
    facets, total = facet_counts(matched)
    return Results("", hits, total, facets)


def facet_counts(assets: QuerySet) -> tuple[dict[str, list[tuple[str, str, int]]], int]:
    """{facet: [(value, label, count)]} over `assets`, most common first, and their total."""
    counts: dict[str, dict[str, int]] = {f: defaultdict(int) for f in FACETS}
    total = 0
    for *values, n in assets.order_by().values_list(*FACETS).annotate(n=Count("pk")):
        total += n
        for facet, value in zip(FACETS, values, strict=True):
            counts[facet][value or ""] += n
    facets = {
        facet: sorted(
            ((v, _LABELS.get(facet, {}).get(v, v) or "(none)", n) for v, n in by.items()),
            key=lambda t: (-t[2], t[1]),
        )
        for facet, by in counts.items()
    }
    return facets, total


# --- the search log and content gaps ---------------------------------------------------------


def log_search(user: User | None, text: str, *, filters: dict, result_count: int) -> int:
    entry = SearchLog.objects.create(
        query=text.strip()[:300],
        normalized=engine.normalize_query(text),
        user=user,
        filters=filters,
        result_count=result_count,
    )
    return entry.pk


def record_search_open(log_id: int, asset: ContentAsset, *, user: User) -> bool:
    """Note that `user` opened `asset` from their search `log_id` (the first open counts)."""
    updated = SearchLog.objects.filter(pk=log_id, user=user, opened_asset=None).update(
        opened_asset=asset, opened_at=timezone.now()
    )
    return bool(updated)


def content_gaps(*, days: int = 90, limit: int = 200) -> dict:
    """Searches of the last `days` that found nothing, or where nothing was opened, grouped by
    normalised query; with the share of searches without a result against Coveo's 5%."""
    logs = SearchLog.objects.filter(created_at__gte=timezone.now() - timedelta(days=days))
    summary = logs.aggregate(
        searches=Count("pk"),
        no_result=Count("pk", filter=Q(result_count=0)),
        opened=Count("opened_asset"),
    )
    groups = (
        logs.values("normalized")
        .annotate(
            searches=Count("pk"),
            no_result=Count("pk", filter=Q(result_count=0)),
            opened=Count("opened_asset"),
            people=Count("user", distinct=True),
            last=Max("created_at"),
            example=Max("query"),
        )
        .filter(Q(no_result__gt=0) | Q(opened=0))
        .order_by("-searches", "normalized")[:limit]
    )
    searches = summary["searches"] or 0
    share = summary["no_result"] / searches if searches else None
    opened = summary["opened"] / searches if searches else None
    return {
        "days": days,
        "searches": searches,
        "no_result": summary["no_result"],
        "no_result_share": share,
        "no_result_percent": None if share is None else round(100 * share, 1),
        "no_result_target": NO_RESULT_TARGET,
        "opened_share": opened,
        "opened_percent": None if opened is None else round(100 * opened, 1),
        "gaps": [{**g, "why": "no result" if g["no_result"] else "nothing opened"} for g in groups],
    }
