"""`closedloop bench scoreboard`: the scoreboard page's latency, warm and after a cold start,
against the reference of computing its figures in the request.

    closedloop bench scoreboard -s leads=20000,1000000 -s seed=7 -s requests=40

For each size the demo company is loaded (or reused) as `bench pages` does. In a fresh
subprocess (production profile, DEBUG off, Django's test Client: middleware, view, ORM and
templates, no HTTP):
  1. the worker's job is timed: `refresh_all()` computes every standard period (this quarter,
     last 30 and 90 days) of every scope (the company and each team) into snapshots, and one
     company snapshot alone is timed as `compute_company_quarter_s`: what a request would pay
     if it computed the figures (the reference);
  2. the cache is cleared (a cold start: a new process with an empty cache; the snapshots are
     in the database) and the first request of an executive and of a rep is timed;
  3. `requests` requests of /scoreboard/ as an executive (company) and as a rep (their team),
     and of GET /api/v1/analytics/scoreboard, give p50/p95.
Prints a list with one object per size.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _pages_bench():
    path = Path(__file__).with_name("pages.py")
    spec = importlib.util.spec_from_file_location("closedloop_bench_pages_loader", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(leads: str = "20000", seed: str = "7", requests: str = "40", workdir: str = "") -> list:
    """Load (or reuse) a demo database per size and measure the scoreboard; one result per size."""
    loader = _pages_bench()
    base = Path(workdir or tempfile.gettempdir()) / "closedloop-bench-pages"
    results = []
    for size in [int(n) for n in leads.split(",") if n.strip()]:
        data_dir = base / f"leads{size}-seed{seed}"
        load_seconds = loader._ensure_loaded(data_dir, size, int(seed))
        loader._analyze(data_dir)
        command = [sys.executable, __file__, requests]
        out = subprocess.run(
            command, env=loader._env(data_dir), check=True, capture_output=True, text=True
        )
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


def _timed(client, url: str, **headers) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or b"scoreboard-computing" in response.content:
        raise RuntimeError(f"{url} answered {response.status_code} without figures")
    return elapsed


def _worker() -> dict:
    from closedloop.analytics import snapshots
    from closedloop.analytics.scope import COMPANY

    started = time.perf_counter()
    snapshots.store_snapshot(COMPANY, snapshots.standard_periods()["quarter"])
    company = time.perf_counter() - started
    started = time.perf_counter()
    count = snapshots.refresh_all()
    return {
        "compute_company_quarter_s": round(company, 2),
        "refresh_all_s": round(time.perf_counter() - started, 2),
        "snapshots": count,
    }


def _measure(requests: int) -> dict:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from closedloop.core.models import Role, User
    from closedloop.core.services import create_api_token
    from closedloop.crm.models import Lead

    users = {
        "executive": User.objects.filter(role__in=[Role.EXECUTIVE, Role.ADMIN])
        .order_by("role", "pk")
        .first(),
        "rep": User.objects.filter(role=Role.REP, team__isnull=False).order_by("pk").first(),
    }
    worker = _worker()
    pages_bench = _pages_bench()
    _, measuring = pages_bench.measured_users_and_settings()
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    secret = create_api_token(user=users["executive"], name="bench")[1]
    result = {"leads": Lead.objects.count(), "database": connection.vendor, "worker": worker}
    with measuring:
        _timed(clients["rep"], "/leads/")  # the process's first request pays for imports
        cache.clear()
        result["cold_ms"] = {
            role: round(_timed(c, "/scoreboard/"), 1) for role, c in clients.items()
        }
        result["pages"] = {
            f"scoreboard_{role}": _percentiles([_timed(c, "/scoreboard/") for _ in range(requests)])
            for role, c in clients.items()
        }
        api = [
            _timed(
                clients["executive"],
                "/api/v1/analytics/scoreboard",
                Authorization=f"Bearer {secret}",
            )
            for _ in range(requests)
        ]
        result["pages"]["api_scoreboard"] = _percentiles(api)
    result["reference"] = (
        "computing the company's quarter in the request instead of reading the snapshot: "
        f"{worker['compute_company_quarter_s']} s"
    )
    result["machine"] = f"{os.cpu_count()} cores, load {open('/proc/loadavg').read().split()[:3]}"
    return result


if __name__ == "__main__":
    print(json.dumps(_measure(int(sys.argv[1]))))
