"""`closedloop bench api`: latency of the JSON API on the demo company.

    closedloop bench api -s leads=20000 -s seed=7 -s requests=60 -s pages=100

For each size it loads the demo company into a scratch SQLite data directory of its own (the
same way as `bench pages`, reused when already loaded with that size and seed), then measures
in a fresh subprocess through Django's test Client with a bearer token: authentication, rate
limiting, the ninja router, the ORM and JSON rendering, in process, without an HTTP server.

Measured, as an admin (sees every lead) and as a sales rep (their team's leads):
  list_first     GET /api/v1/leads?limit=50
  list_filtered  GET /api/v1/leads?stage=<a populated stage>&sort=-score&limit=50
  list_walk      every page of a `pages`-page walk with the cursor: keyset pagination should make
                 the last page cost what the first does (`first_page_ms`, `last_page_ms`)
  detail         GET /api/v1/leads/<random visible id>
  patch          PATCH /api/v1/leads/<id> with If-Match (conditional UPDATE + audit entry)

Prints a list with one object per size: {"leads", "database", "endpoints": {name: {"p50_ms",
"p95_ms", ...}}, "by_role": {...}}.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _pages_bench():
    # The loader of `bench pages`: one way to build a demo database for benchmarks.
    path = Path(__file__).with_name("pages.py")
    spec = importlib.util.spec_from_file_location("closedloop_bench_pages_loader", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(
    leads: str = "20000",
    seed: str = "7",
    requests: str = "60",
    pages: str = "100",
    workdir: str = "",
) -> list:
    """Load (or reuse) a demo database per size and measure the API; one result per size."""
    loader = _pages_bench()
    base = Path(workdir or tempfile.gettempdir()) / "closedloop-bench-api"
    results = []
    for size in [int(n) for n in leads.split(",") if n.strip()]:
        data_dir = base / f"leads{size}-seed{seed}"
        load_seconds = loader._ensure_loaded(data_dir, size, int(seed))
        loader._analyze(data_dir)
        env = {**loader._env(data_dir), "CLOSEDLOOP_API_RATE_LIMIT": "off"}
        command = [sys.executable, __file__, requests, pages, seed]
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        result = json.loads(out.stdout)
        result["load_seconds"] = load_seconds
        results.append(result)
    return results


# ---- everything below runs inside the measuring subprocess -------------------------------


def _percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


class _Caller:
    def __init__(self, secret: str):
        from django.test import Client

        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def timed(self, method: str, path: str, body=None, **headers):
        started = time.perf_counter()
        if method == "GET":
            response = self.client.get(f"/api/v1{path}", body or {}, headers=self.headers)
        else:
            response = self.client.patch(
                f"/api/v1{path}",
                json.dumps(body),
                content_type="application/json",
                headers={**self.headers, **headers},
            )
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(
                f"{method} {path} answered {response.status_code}: {response.content[:200]}"
            )
        return elapsed, response


def _walk(caller: _Caller, pages: int) -> dict:
    samples, cursor = [], None
    for _ in range(pages):
        elapsed, response = caller.timed(
            "GET", "/leads", {"limit": 50, **({"cursor": cursor} if cursor else {})}
        )
        samples.append(elapsed)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    return {
        **_percentiles(samples),
        "first_page_ms": round(samples[0], 1),
        "last_page_ms": round(samples[-1], 1),
        "rows": 50 * len(samples),
    }


def _measure_user(user, requests: int, pages: int, rng: random.Random) -> dict:
    from django.db.models import Count

    from closedloop.core.permissions import visible
    from closedloop.core.services import create_api_token
    from closedloop.crm.models import Lead

    caller = _Caller(create_api_token(user=user, name="bench api")[1])
    leads = visible(Lead.objects.all(), user)
    rows = leads.order_by().values_list("lifecycle_stage").annotate(n=Count("id")).order_by("-n")
    stages = [stage for stage, _ in rows]
    stage = stages[1] if len(stages) > 1 else stages[0]
    ids = list(leads.order_by("-created_at").values_list("id", flat=True)[:20000])
    caller.timed("GET", "/leads")  # first request pays for imports
    result = {}
    for name, call in {
        "list_first": lambda: caller.timed("GET", "/leads", {"limit": 50}),
        "list_filtered": lambda: caller.timed(
            "GET", "/leads", {"stage": stage, "sort": "-score", "limit": 50}
        ),
        "detail": lambda: caller.timed("GET", f"/leads/{rng.choice(ids)}"),
    }.items():
        result[name] = _percentiles([call()[0] for _ in range(requests)])
    result["list_walk"] = _walk(caller, pages)
    result["patch"] = _percentiles([_patch(caller, rng.choice(ids), rng) for _ in range(requests)])
    result["visible_leads"] = leads.count()
    return result


def _patch(caller: _Caller, lead_id: int, rng: random.Random) -> float:
    _, response = caller.timed("GET", f"/leads/{lead_id}")
    elapsed, _ = caller.timed(
        "PATCH",
        f"/leads/{lead_id}",
        {"title": f"Bench title {rng.randrange(10**6)}"},
        **{"If-Match": response["ETag"]},
    )
    return elapsed


def _measure(requests: int, pages: int, seed: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from closedloop.crm.models import Lead

    rng = random.Random(seed)
    users, measuring = _pages_bench().measured_users_and_settings()
    with measuring:
        by_role = {role: _measure_user(user, requests, pages, rng) for role, user in users.items()}
    names = ("list_first", "list_filtered", "list_walk", "detail", "patch")
    worst = {
        name: max((r[name] for r in by_role.values()), key=lambda s: s["p95_ms"]) for name in names
    }
    return {
        "leads": Lead.objects.count(),
        "database": connection.vendor,
        "endpoints": {n: {"p50_ms": s["p50_ms"], "p95_ms": s["p95_ms"]} for n, s in worst.items()},
        "by_role": by_role,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closedloop.settings")
    print(json.dumps(_measure(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
