"""The library's search at scale, on SQLite and on PostgreSQL (benchmarks/content.py).

For each database, a scratch data folder (SQLite) or a scratch database (`cl_bench_content`,
PostgreSQL) is migrated and filled with `assets` assets whose files hold `pages` pages of
extracted text in all (~250 words a page from a Zipf-distributed vocabulary of 30,000 words,
with business words among the common ones), indexed through `content.search.index_assets`,
the path every upload takes. Then a fixed mix of queries (one common word, one rarer word, two
and three words, a phrase, an OR, with and without a facet filter, as a rep and as marketing)
runs through `content.services.search_assets` itself: ranking, effectiveness re-ordering,
snippets, facet counts and the search log, as the page does. Reported per database: p50, p95,
p99 and max in ms over `queries` searches after one warm-up pass.

Reference in the same run: the same queries answered without the index, by the ORM's
`icontains` over title, description and text (`reference_like_ms`, a handful of queries), what
a library without full-text search does.

The data is kept between runs (`-s reuse=1`, the default) in /tmp, keyed by its size, since
loading 200,000 pages takes minutes; `-s reuse=0` builds it again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "cl_bench_content"
WORDS_PER_PAGE = 250
VOCABULARY = 30_000
BUSINESS = (
    "pricing onboarding security compliance integration roadmap renewal discount procurement "
    "healthcare manufacturing retail finance analytics dashboard pipeline forecast quota "
    "churn adoption training migration encryption audit governance workflow automation "
    "partner channel webinar whitepaper battlecard competitor benchmark savings payback "
    "implementation support uptime scalability architecture api reporting attribution"
).split()
KINDS = ("case_study", "whitepaper", "ebook", "deck", "one_pager", "battlecard", "video", "blog")
PERSONAS = ("executive", "technical", "practitioner", "finance", "")
STAGES = ("lead", "mql", "sql", "opportunity", "customer", "")
INDUSTRIES = ("Healthcare", "Manufacturing", "Retail", "Finance", "Software", "")


def measure(
    *, assets: int, pages: int, queries: int, seed: int, reuse: bool, databases: list
) -> dict:
    out: dict = {"assets": assets, "pages": pages, "words_per_page": WORDS_PER_PAGE}
    for database in databases:
        env = _env(database, assets=assets, pages=pages, seed=seed)
        if database == "postgres" and not _pg_available():
            out[database] = {"skipped": "PostgreSQL is not reachable"}
            continue
        _prepare(database, env, reuse=reuse)
        args = [sys.executable, __file__, "child", str(assets), str(pages), str(queries), str(seed)]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{database}: {done.stderr[-3000:]}")
        out[database] = json.loads(done.stdout.strip().splitlines()[-1])
    out["search_p95_ms"] = {d: out[d].get("p95_ms") for d in databases if "p95_ms" in out[d]}
    return out


def _env(database: str, *, assets: int, pages: int, seed: int) -> dict:
    folder = Path(f"/tmp/closedloop-bench-content-{database}-{assets}-{pages}-{seed}")
    env = {**os.environ, "CLOSEDLOOP_DATA_DIR": str(folder), "CLOSEDLOOP_TASK_BACKEND": "immediate"}
    env.setdefault("CLOSEDLOOP_SECRET_KEY", "bench-only-" + "x" * 40)
    env.pop("CLOSEDLOOP_DATABASE_URL", None)
    if database == "postgres":
        env["CLOSEDLOOP_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    return env


def _pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False
    return True


def _prepare(database: str, env: dict, *, reuse: bool) -> None:
    folder = Path(env["CLOSEDLOOP_DATA_DIR"])
    marker = folder / f"loaded-{database}"
    if reuse and marker.exists():
        return
    if database == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    else:
        for name in ("closedloop.sqlite3", "closedloop.sqlite3-wal", "closedloop.sqlite3-shm"):
            (folder / name).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "closedloop.cli", "migrate"], env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    marker.unlink(missing_ok=True)


# --- the child: runs inside one database's settings --------------------------------------------


def child(assets: int, pages: int, queries: int, seed: int) -> dict:
    from closedloop.env import setup_django

    setup_django()
    marker = Path(os.environ["CLOSEDLOOP_DATA_DIR"]) / (
        "loaded-postgres" if os.environ.get("CLOSEDLOOP_DATABASE_URL") else "loaded-sqlite"
    )
    result: dict = {}
    if not marker.exists():
        result["load_s"] = _load(assets, pages, seed)
        marker.write_text("1")
    result.update(_time_queries(queries, seed))
    return result


def _vocabulary(rng) -> list[str]:
    letters = "abcdefghiklmnoprstuvy"
    words = {
        "".join(rng.choice(list(letters), size=int(n))) for n in rng.integers(3, 11, VOCABULARY * 2)
    }
    common = sorted(words)[: VOCABULARY - len(BUSINESS)]
    rng.shuffle(common)
    # Business words among the frequent ones, as in real collateral.
    return common[:50] + BUSINESS + common[50:]


def _load(assets: int, pages: int, seed: int) -> float:
    import numpy as np
    from django.db import transaction

    from closedloop.content.models import AssetVersion, ContentAsset
    from closedloop.content.search import index_assets
    from closedloop.core.db.insert import insert_dicts
    from closedloop.core.models import Role, User

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    vocab = np.array(_vocabulary(rng), dtype=object)
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    weights /= weights.sum()
    User.objects.get_or_create(
        email="mia@bench.example",
        defaults={"role": Role.MARKETING, "username": "mia@bench.example"},
    )
    User.objects.get_or_create(
        email="rep@bench.example", defaults={"role": Role.REP, "username": "rep@bench.example"}
    )
    per_asset = max(pages // assets, 1) * WORDS_PER_PAGE
    batch = 500
    for start in range(0, assets, batch):
        n = min(batch, assets - start)
        with transaction.atomic():
            ids = insert_dicts(
                ContentAsset, [_asset_row(rng, vocab, i) for i in range(start, start + n)]
            )
            texts = [" ".join(vocab[rng.choice(len(vocab), per_asset, p=weights)]) for _ in ids]
            versions = insert_dicts(
                AssetVersion,
                [
                    {"asset_id": a, "number": 1, "file": f"content/{a}/1/file.pdf",
                     "original_name": "file.pdf", "sha256": "0" * 64, "size": len(t),
                     "mime": "application/pdf", "extraction": "extracted", "extracted_text": t,
                     "page_count": per_asset // WORDS_PER_PAGE}
                    for a, t in zip(ids, texts, strict=True)
                ],
            )  # fmt: skip
            for a, v in zip(ids, versions, strict=True):
                ContentAsset.objects.filter(pk=a).update(current_version_id=v)
            index_assets(ids)
    from closedloop.core.db.vendor import refresh_statistics

    refresh_statistics()
    return round(time.perf_counter() - started, 1)


def _asset_row(rng, vocab, i: int) -> dict:
    title = " ".join(vocab[rng.integers(0, 2000, 4)]).capitalize()
    return {
        "title": title,
        "kind": KINDS[i % len(KINDS)],
        "description": " ".join(vocab[rng.integers(0, 5000, 25)]),
        "persona": PERSONAS[int(rng.integers(0, len(PERSONAS)))],
        "stage": STAGES[int(rng.integers(0, len(STAGES)))],
        "industry": INDUSTRIES[int(rng.integers(0, len(INDUSTRIES)))],
        "tags": ", ".join(vocab[rng.integers(0, 500, 3)]),
        "status": "published" if i % 10 else "draft",
        "effectiveness": float(rng.random()) if i % 3 else None,
    }


def _queries(rng, vocab: list[str], n: int) -> list[tuple[str, dict]]:
    common, mid, rare = vocab[:100], vocab[100:3000], vocab[3000:20000]
    pick = lambda words: words[int(rng.integers(0, len(words)))]  # noqa: E731
    makers = [
        lambda: (pick(common), {}),
        lambda: (pick(mid), {}),
        lambda: (pick(rare), {}),
        lambda: (f"{pick(mid)} {pick(mid)}", {}),
        lambda: (f"{pick(common)} {pick(mid)} {pick(rare)}", {}),
        lambda: (f'"{pick(common)} {pick(common)}"', {}),
        lambda: (f"{pick(mid)} or {pick(rare)}", {}),
        lambda: (pick(common), {"kind": KINDS[int(rng.integers(0, len(KINDS)))]}),
        lambda: (pick(BUSINESS), {"persona": "finance"}),
        lambda: (f"{pick(BUSINESS)} {pick(BUSINESS)}", {}),
    ]
    return [makers[i % len(makers)]() for i in range(n)]


def _time_queries(queries: int, seed: int) -> dict:
    import numpy as np

    from closedloop.content.services import search_assets
    from closedloop.core.models import User

    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng)
    mix = _queries(np.random.default_rng(seed + 1), vocab, queries)
    users = [
        User.objects.get(email="rep@bench.example"),
        User.objects.get(email="mia@bench.example"),
    ]
    for i, (text, filters) in enumerate(mix):  # warm-up: the page cache, the plans
        search_assets(users[i % 2], text, filters=filters)
    times, totals = [], []
    for i, (text, filters) in enumerate(mix):
        started = time.perf_counter()
        results = search_assets(users[i % 2], text, filters=filters)
        times.append((time.perf_counter() - started) * 1000)
        totals.append(results.total)
    ms = np.array(times)
    return {
        "queries": len(mix),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
        "median_matches": int(np.median(totals)),
        "reference_like_ms": _reference(mix[:5], users[1]),
    }


def _reference(mix, user) -> float:
    """Mean ms of a search without the index: icontains over title, description and text."""
    from django.db.models import Q

    from closedloop.content.models import ContentAsset

    times = []
    for text, _filters in mix:
        word = text.strip('"').split()[0]
        started = time.perf_counter()
        match = (
            Q(title__icontains=word) | Q(description__icontains=word)
            | Q(current_version__extracted_text__icontains=word)
        )  # fmt: skip
        list(ContentAsset.objects.filter(match).values_list("pk", flat=True)[:20])
        ContentAsset.objects.filter(match).count()
        times.append((time.perf_counter() - started) * 1000)
    return round(sum(times) / len(times), 1)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "child":
    print(json.dumps(child(*(int(a) for a in sys.argv[2:6]))))
