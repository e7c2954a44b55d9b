"""Assignment throughput: routing rules + weighted round-robin with concurrent assigners.

    closedloop bench routing [-s leads=20000] [-s workers=2] [-s batch=2000] [-s database=both]

database is sqlite, postgres or both. Each database is measured in a child process pointed at a
scratch database (SQLite in a temporary folder; PostgreSQL `cl_bench_routing`, created if
missing, on CLOSEDLOOP_BENCH_PG or postgres://postgres@127.0.0.1:5432). Prints, per database:
leads_per_s (assigned leads / wall seconds of assigning, data loading excluded),
double_assignments (leads with more than one routing assignment, or whose owner differs from
the assignment log: must be 0) and max_imbalance (largest distance of a rep's round-robin
count from its weighted share, over all teams: ±1 is the promise).

Workers are threads of one process, each with its own connection. Two is the default: every
batch holds the round-robin counter locks for its whole transaction, so more assigners add
safety (tests/handoff/test_concurrency.py runs 50) but not speed, and threads beyond the cores
only queue on the locks and the GIL. Measured on a shared 2-core machine: 8 threads × 1,000
gave ~800 leads/s on PostgreSQL where 2 threads × 2,000 gave ~3,400.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

PG_BASE = os.environ.get("CLOSEDLOOP_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DB = "cl_bench_routing"


def run(
    leads: str = "20000", workers: str = "2", batch: str = "2000", database: str = "both"
) -> dict:
    targets = ["sqlite", "postgres"] if database == "both" else [database]
    results = [_in_child(t, int(leads), int(workers), int(batch)) for t in targets]
    return results[0] if len(results) == 1 else {"results": results}


def _in_child(target: str, leads: int, workers: int, batch: int) -> dict:
    env = {
        **os.environ,
        "CLOSEDLOOP_DEBUG": "1",
        "CLOSEDLOOP_TASK_BACKEND": "immediate",
        "DJANGO_SETTINGS_MODULE": "closedloop.settings",
    }
    with tempfile.TemporaryDirectory(prefix="cl-bench-routing-") as scratch:
        env["CLOSEDLOOP_DATA_DIR"] = scratch
        env.pop("CLOSEDLOOP_DATABASE_URL", None)
        if target == "postgres":
            _ensure_pg_database()
            env["CLOSEDLOOP_DATABASE_URL"] = f"{PG_BASE}/{PG_DB}"
        here = os.path.dirname(__file__)
        code = (
            f"import json, sys; sys.path.insert(0, {here!r}); import routing; "
            f"print(json.dumps(routing.measure({leads}, {workers}, {batch})))"
        )
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return {"database": target, "error": done.stderr.strip().splitlines()[-1:]}
        return json.loads(done.stdout.strip().splitlines()[-1])


def _ensure_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_DB}"')


def measure(leads: int, workers: int, batch: int) -> dict:
    """In the child: migrate the scratch database, load data, assign with threads, check."""
    import threading

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import Count

    from closedloop.handoff.routing import assign_leads

    call_command("migrate", interactive=False, verbosity=0)
    reps_by_team = _load(leads)
    errors, counts = [], []
    gate = threading.Barrier(workers)

    def worker():
        try:
            gate.wait()
            counts.append(assign_leads(batch_size=batch))
        except Exception as exc:  # reported in the result
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    assigned = sum(counts)
    result = {
        "database": connection.vendor,
        "leads": leads,
        "workers": workers,
        "batch": batch,
        "assigned": assigned,
        "seconds": round(seconds, 3),
        "leads_per_s": round(assigned / seconds, 1) if seconds else None,
        "double_assignments": _doubles(Count),
        "max_imbalance": _imbalance(reps_by_team, Count),
        "errors": errors[:3],
    }
    connections.close_all()
    return result


def _load(leads: int) -> dict[int, list[int]]:
    """Three teams of eight reps (one at half weight, one away), three rules, some accounts."""
    import random

    from django.utils import timezone

    from closedloop.core.models import Role, Team, User
    from closedloop.crm.models import Account, Lead, LifecycleStage
    from closedloop.handoff.models import Assignment, LeadSla, RoutingMember, RoutingRule

    Assignment.objects.all().delete()
    LeadSla.objects.all().delete()
    Lead.objects.all().delete()
    Account.objects.all().delete()
    RoutingRule.objects.all().delete()
    RoutingMember.objects.all().delete()
    User.objects.filter(email__endswith="@bench.example").delete()
    rng = random.Random(7)
    now = timezone.now()
    reps_by_team = {}
    for name in ("Bench DACH", "Bench Enterprise", "Bench Inside"):
        team, _ = Team.objects.get_or_create(name=name, defaults={"time_zone": "Europe/Berlin"})
        reps = [
            User.objects.create_user(
                email=f"{name.split()[1].lower()}{i}@bench.example",
                password="x",
                role=Role.REP,
                team=team,
                is_away=(i == 7),
            )
            for i in range(8)
        ]
        RoutingMember.objects.bulk_create(RoutingMember(user=r, weight=1) for r in reps)
        reps_by_team[team.pk] = [r.pk for r in reps if not r.is_away]
    dach, enterprise, inside = reps_by_team
    RoutingRule.objects.create(
        name="DACH",
        position=1,
        team_id=dach,
        conditions=[{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}],
    )
    RoutingRule.objects.create(
        name="Enterprise",
        position=2,
        team_id=enterprise,
        conditions=[{"field": "employees", "op": "gte", "value": 1000}],
    )
    RoutingRule.objects.create(name="Everyone else", position=3, team_id=inside)
    owners = [u for ids in reps_by_team.values() for u in ids]
    Account.objects.bulk_create(
        Account(
            name=f"Acc {i}", domain=f"acc{i}.example", owner_id=rng.choice(owners), created_at=now
        )
        for i in range(200)
    )
    countries = ["US", "GB", "DE", "FR", "AT", "CA", "CH", "NL"]
    rows = []
    for i in range(leads):
        domain = f"acc{rng.randrange(200)}.example" if rng.random() < 0.05 else f"co{i}.example"
        rows.append(
            Lead(
                email=f"p{i}@{domain}",
                country=rng.choice(countries),
                employees=rng.choice([10, 50, 200, 1500, 5000]),
                lifecycle_stage=LifecycleStage.MQL,
                created_at=now,
                mql_at=now,
            )
        )
    Lead.objects.bulk_create(rows, batch_size=5000)
    return reps_by_team


def _doubles(Count) -> int:
    from django.db.models import F

    from closedloop.crm.models import Lead
    from closedloop.handoff.models import Assignment

    repeated = Assignment.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1).count()
    mismatched = Assignment.objects.exclude(to_owner_id=F("lead__owner_id")).count()
    unlogged = Lead.objects.filter(owner__isnull=False, assignments__isnull=True).count()
    return repeated + mismatched + unlogged


def _imbalance(reps_by_team: dict[int, list[int]], Count) -> float:
    from closedloop.handoff.engine import imbalance
    from closedloop.handoff.models import Assignment

    # Round-robin only: account-owner matches are deliberate, not a share of the rotation.
    per_rep = dict(
        Assignment.objects.exclude(rule="account")
        .values_list("to_owner_id")
        .annotate(n=Count("id"))
    )
    worst = 0.0
    for reps in reps_by_team.values():
        counts = [per_rep.get(r, 0) for r in reps]
        worst = max(worst, imbalance(counts, [1] * len(counts)))
    return round(worst, 3)
