"""`closedloop bench pages`: p50/p95 latency of the home page, the lead and opportunity pages.

    closedloop bench pages -s leads=20000,1000000 -s seed=7 -s requests=60
    closedloop bench pages -s leads=1000000 -s open_opportunities=100000   # issue 10's target

For each size it loads the demo company into a scratch SQLite data directory (`closedloop
migrate` + `closedloop demo --leads N --seed S` in subprocesses; a directory already loaded with
the same N and seed is reused, since a million leads take minutes to load), then measures in a
fresh subprocess through Django's test Client: the full middleware, view, ORM and template
stack, in process, without HTTP or a WSGI server in front. Production profile (DEBUG off).

Pages, each requested `requests` times as an admin (sees every lead) and as a sales rep
(sees their team's leads):
  home          the dashboard; its aggregates are cached per visibility scope for
                DASHBOARD_CACHE_SECONDS, so this is mostly the cached path. `home_cold` is the
                first request after clearing the cache (one sample per role), reported apart.
  lead_list     /leads/?stage=<a populated stage>&sort=score (filtered and sorted, 50 rows)
  lead_list_default  /leads/ (newest first)
  lead_search   /leads/?q=<a last name> (search over name, email, company)
  lead_detail   /leads/<id>/ for a different random visible lead on every request
  inbox         /inbox/ (every open lead in scope ranked by priority, the first page of 50;
                an admin's scope is every owned open lead)
  inbox_search  /inbox/?q=<a last name>
  board         /pipeline/ (the opportunity board: open deals by stage, with totals)
  opportunity_list  /opportunities/ (open and closed deals, totals and weighted pipeline)
  opportunity_detail  /opportunities/<id>/ for a different random visible open deal each time
(a page the code does not have yet is left out of the result).

The demo company has a few open deals per thousand leads; `open_opportunities` (default
100,000) tops the database up to that many open ones before measuring, written with the bulk
column writer (`core.db.columns`, the demo loader's path) in a subprocess: deals on random
accounts, owned by the demo's reps, spread over the open pipeline stages, created in the last
four months. The top-up is recorded beside the load, so a reused directory is not topped twice.

Options: leads (comma separated sizes), seed, requests, workdir (where the scratch data
directories live; default: the system temp folder), analyze (1, the default: run SQLite's
ANALYZE after loading if the loader did not, so the planner has statistics; 0: measure as
loaded). The output says whether planner statistics were present.
Prints a list with one object per size:
{"leads": N, "database": "sqlite", "pages": {page: {"p50_ms", "p95_ms"}}, "by_role": {...}}.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_SECRET = "closedloop-bench-only-secret-key-" + "b" * 32


def run(
    leads: str = "20000,1000000",
    seed: str = "7",
    requests: str = "60",
    workdir: str = "",
    analyze: str = "1",
    open_opportunities: str = "100000",
) -> list:
    """Load (or reuse) a demo database per size, top its open deals up to
    `open_opportunities`, and measure the pages; one result per size."""
    base = Path(workdir or tempfile.gettempdir()) / "closedloop-bench-pages"
    results = []
    for size in [int(n) for n in leads.split(",") if n.strip()]:
        data_dir = base / f"leads{size}-seed{seed}"
        load_seconds = _ensure_loaded(data_dir, size, int(seed))
        topped_up = _ensure_open_opportunities(data_dir, int(open_opportunities), int(seed))
        analyzed = (
            _analyze(data_dir, force=topped_up) if analyze == "1" else _has_statistics(data_dir)
        )
        result = _measure_in_subprocess(data_dir, int(requests), int(seed))
        result["load_seconds"] = load_seconds
        result["planner_statistics"] = analyzed
        results.append(result)
    return results


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    env.update(
        {
            "CLOSEDLOOP_DATA_DIR": str(data_dir),
            "CLOSEDLOOP_SECRET_KEY": BENCH_SECRET,
            "CLOSEDLOOP_DEBUG": "0",
            "CLOSEDLOOP_TASK_BACKEND": "immediate",
            "DJANGO_SETTINGS_MODULE": "closedloop.settings",
        }
    )
    return env


def _ensure_loaded(data_dir: Path, size: int, seed: int) -> float | None:
    """Load the demo unless `data_dir` already holds this size and seed; seconds taken or None."""
    marker = data_dir / "bench-loaded.json"
    wanted = {"leads": size, "seed": seed}
    cli = [sys.executable, "-m", "closedloop.cli"]
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        # Reused: bring its schema up to the code's (new migrations since it was loaded).
        subprocess.run(cli + ["migrate"], env=_env(data_dir), check=True, stdout=subprocess.DEVNULL)
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("closedloop.sqlite3", "closedloop.sqlite3-wal", "closedloop.sqlite3-shm"):
        (data_dir / name).unlink(missing_ok=True)
    (data_dir / TOP_UP_MARKER).unlink(missing_ok=True)
    started = time.perf_counter()
    for args in (["migrate"], ["demo", "--leads", str(size), "--seed", str(seed)]):
        subprocess.run(cli + args, env=_env(data_dir), check=True, stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps(wanted))
    return round(time.perf_counter() - started, 1)


TOP_UP_MARKER = "bench-opportunities.json"


def _ensure_open_opportunities(data_dir: Path, target: int, seed: int) -> bool:
    """Top the open deals up to `target` unless done already; True when rows were written."""
    marker = data_dir / TOP_UP_MARKER
    if marker.exists() and json.loads(marker.read_text()).get("open_opportunities") >= target:
        return False
    command = [sys.executable, __file__, "--top-up", str(data_dir), str(target), str(seed)]
    out = subprocess.run(command, env=_env(data_dir), check=True, capture_output=True, text=True)
    marker.write_text(json.dumps({"open_opportunities": target, **json.loads(out.stdout)}))
    return True


def _database_file(data_dir: Path) -> Path:
    return data_dir / "closedloop.sqlite3"


def _has_statistics(data_dir: Path) -> bool:
    import sqlite3

    with sqlite3.connect(_database_file(data_dir)) as db:
        return bool(
            db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
        )


def _analyze(data_dir: Path, *, force: bool = False) -> bool:
    # SQLite's planner picks indexes from sqlite_stat1; without it, it assumes any equality
    # filter is selective and sorts a third of the table for a rep's list. A bulk load should
    # end with ANALYZE (as PostgreSQL's autovacuum does by itself); run it if the load did not.
    import sqlite3

    if force or not _has_statistics(data_dir):
        with sqlite3.connect(_database_file(data_dir)) as db:
            db.execute("ANALYZE")
    return True


def _measure_in_subprocess(data_dir: Path, requests: int, seed: int) -> dict:
    # A fresh process per size: Django's settings (the data directory) are fixed at setup.
    command = [sys.executable, __file__, str(data_dir), str(requests), str(seed)]
    out = subprocess.run(command, env=_env(data_dir), check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


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


def _timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed


def _measure_user(user, requests: int, rng: random.Random) -> dict:
    from django.core.cache import cache
    from django.test import Client

    from closedloop.core.permissions import visible
    from closedloop.crm.models import Lead

    client = Client()
    client.force_login(user)
    leads = visible(Lead.objects.all(), user)
    stage = _populated_stage(leads)
    ids = list(leads.order_by("-created_at").values_list("id", flat=True)[:20000])
    names = list(leads.exclude(last_name="").values_list("last_name", flat=True)[:200])
    _timed(client, "/")  # the process's first request pays for imports and template loading
    cache.clear()
    cold = _timed(client, "/")
    pages = {
        "home": lambda: "/",
        "lead_list": lambda: f"/leads/?stage={stage}&sort=score",
        "lead_list_default": lambda: "/leads/",
        "lead_search": lambda: f"/leads/?q={rng.choice(names) if names else 'a'}",
        "lead_detail": lambda: f"/leads/{rng.choice(ids)}/",
        "inbox": lambda: "/inbox/",
        "inbox_search": lambda: f"/inbox/?q={rng.choice(names) if names else 'a'}",
    }
    pages |= _opportunity_pages(user, rng)
    result = {"home_cold": {"cold_ms": round(cold, 1)}}
    for name, url in pages.items():
        _timed(client, url())  # warm-up, not counted
        result[name] = _percentiles([_timed(client, url()) for _ in range(requests)])
    result["lead_list"]["url"] = f"/leads/?stage={stage}&sort=score"
    result["visible_leads"] = leads.count()
    return result


def _opportunity_pages(user, rng: random.Random) -> dict:
    """The board, the opportunity list and an open deal's page, for the pages the code has."""
    from django.urls import Resolver404, resolve

    from closedloop.crm.models import Opportunity, OpportunityStage
    from closedloop.crm.permissions import opportunity_visibility

    rule = opportunity_visibility(user)
    deals = Opportunity.objects.exclude(stage__in=(OpportunityStage.WON, OpportunityStage.LOST))
    deals = deals if rule is None else deals.filter(rule)
    ids = list(deals.order_by("-pk").values_list("pk", flat=True)[:20000])
    pages = {
        "board": lambda: "/pipeline/",
        "opportunity_list": lambda: "/opportunities/",
        "opportunity_detail": lambda: f"/opportunities/{rng.choice(ids)}/" if ids else "/",
    }
    found = {}
    for name, url in pages.items():
        try:
            resolve(url())
        except Resolver404:
            continue
        found[name] = url
    return found


def _populated_stage(leads) -> str:
    # The stage most leads are in after the first: a realistic, large filtered set (e.g. MQL).
    from django.db.models import Count

    rows = leads.order_by().values_list("lifecycle_stage").annotate(n=Count("id")).order_by("-n")
    stages = [stage for stage, _ in rows]
    return stages[1] if len(stages) > 1 else (stages[0] if stages else "mql")


def measured_users_and_settings():
    """The demo's first admin and first rep with a team (those that exist), and the settings to
    measure in-process requests under. Shared with `bench api`."""
    from django.conf import settings
    from django.test.utils import override_settings

    from closedloop.core.models import Role, User

    users = {
        "admin": User.objects.filter(role=Role.ADMIN).order_by("pk").first(),
        "rep": User.objects.filter(role=Role.REP, team__isnull=False).order_by("pk").first(),
    }
    # The manifest static storage needs collectstatic; serving static files is not measured.
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    measuring = override_settings(STORAGES=plain_static, ALLOWED_HOSTS=["testserver"])
    return {role: user for role, user in users.items() if user is not None}, measuring


def _measure(requests: int, seed: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from closedloop.crm.dashboard import cache_seconds
    from closedloop.crm.models import Lead

    rng = random.Random(seed)
    users, measuring = measured_users_and_settings()
    with measuring:
        by_role = {role: _measure_user(user, requests, rng) for role, user in users.items()}
    pages = {
        name: by_role["admin"][name]
        for name in (
            "home",
            "lead_list",
            "lead_list_default",
            "lead_search",
            "lead_detail",
            "inbox",
            "inbox_search",
            "board",
            "opportunity_list",
            "opportunity_detail",
        )
        if name in by_role["admin"]
    }
    return {
        "leads": Lead.objects.count(),
        "open_opportunities": _open_opportunities(),
        "database": connection.vendor,
        "client": "django.test.Client in process (full middleware, views, templates; no HTTP)",
        "requests_per_page": requests,
        "dashboard_cache_seconds": cache_seconds(),
        "pages": pages,
        "home_cold_ms": {role: r["home_cold"]["cold_ms"] for role, r in by_role.items()},
        "by_role": by_role,
        "machine": _machine(),
    }


def _open_opportunities() -> int:
    from closedloop.crm.models import Opportunity, OpportunityStage

    return Opportunity.objects.exclude(
        stage__in=(OpportunityStage.WON, OpportunityStage.LOST)
    ).count()


def _machine() -> str:
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    if sys.argv[1] == "--top-up":
        from _opportunities import top_up_open_opportunities

        print(json.dumps(top_up_open_opportunities(int(sys.argv[3]), seed=int(sys.argv[4]))))
    else:
        data_dir_arg, requests_arg, seed_arg = sys.argv[1:4]
        print(json.dumps(_measure(int(requests_arg), int(seed_arg))))
