"""Funnel: conversion and median time in stage by source over 10M stage events.

    closedloop bench funnel [-s events=10000000] [-s repeat=3] [-s database=both]
                            [-s rescan=0] [-s seed=7]

A seeded generator makes leads that enter lead -> mql -> sal -> sql -> opportunity -> customer
with drop-offs, about 3.1 stage events per lead (10M events ~ 3.2M leads), over 12 sources.
Figures (best of `repeat`):
- `engine_s`: the pure engine (polars) on the columnar per-lead frame, in memory;
- per database (`sqlite`, `postgres`; database=sqlite|postgres|both), in a child process on
  a scratch database migrated like production (SQLite in a temporary folder; PostgreSQL
  `cl_bench_funnel` on CLOSEDLOOP_BENCH_PG or postgres://postgres@127.0.0.1:5432): the leads
  are written into `crm_lead` with their stage timestamps (`lead_at` ... `customer_at`), then
  `page_path_s` times exactly what the funnel page runs, `analytics.funnel.read_stages` (one
  SELECT of the source and the six stage columns as epoch seconds) + the engine, and `read_s`
  the read alone. With rescan=1 the same events are also written as raw history
  (`crm_stagechange`) and `rescan_s` times the database computing first arrivals per lead and
  the per-source conversion counts from it, the way a funnel without per-lead timestamps must
  (its medians would cost more still), and `backfill_s` times the migration that fills the
  stage timestamps of stored leads from that history (crm 0006);
- `duckdb_rescan_s`: the reference, DuckDB computing the same figures (conversion and median
  days per source and transition) from the raw events (lead, stage, time) in memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import polars as pl

STAGES = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
SOURCES = [
    "organic_search", "paid_search", "social", "email", "referral", "event",
    "webinar", "partner", "outbound", "direct", "import", "other",
]  # fmt: skip
CONTINUE = [0.7, 0.85, 0.75, 0.65, 0.35]  # chance to reach the next stage, per source shifted
MEAN_DAYS = [6.0, 1.5, 10.0, 20.0, 45.0]
PG_BASE = os.environ.get("CLOSEDLOOP_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DB = "cl_bench_funnel"


def run(
    events: str = "10000000",
    repeat: str = "3",
    database: str = "both",
    rescan: str = "0",
    seed: str = "7",
) -> dict:
    frame = generate_stage_table(events=int(events), seed=int(seed))
    result: dict = {
        "stage_events": int(sum(frame[s].is_not_null().sum() for s in STAGES)),
        "leads": frame.height,
        "loadavg_before": _loadavg(),
        "engine_s": best_of(lambda: _engine(frame), int(repeat)),
        "duckdb_rescan_s": _duckdb(frame, int(repeat)),
    }
    targets = ["sqlite", "postgres"] if database == "both" else [database]
    for target in targets:
        result[target] = _in_child(target, events, repeat, rescan, seed)
    result["loadavg_after"] = _loadavg()
    return result


def generate_stage_table(*, events: int, seed: int) -> pl.DataFrame:
    """One row per lead: `source` (0-11) and the epoch second it entered each stage, or null."""
    rng = np.random.default_rng(seed)
    leads = int(events / (1 + np.cumprod(CONTINUE).sum()))
    source = rng.integers(0, len(SOURCES), size=leads)
    quality = (source - 5.5) * 0.02
    columns = {"source": source, "lead": np.round(rng.uniform(1.6e9, 1.66e9, size=leads))}
    alive = np.ones(leads, dtype=bool)
    previous = columns["lead"]
    for i, stage in enumerate(STAGES[1:]):
        alive &= rng.random(leads) < np.clip(CONTINUE[i] + quality, 0.01, 0.99)
        previous = previous + rng.exponential(MEAN_DAYS[i] * 86_400.0, size=leads)
        columns[stage] = np.where(alive, np.round(previous), np.nan)
    return pl.DataFrame(columns).with_columns(
        pl.col(STAGES).fill_nan(None).cast(pl.Int64), pl.col("source").cast(pl.Int32)
    )


def _engine(frame: pl.DataFrame) -> pl.DataFrame:
    from closedloop.analytics.engine.funnel import funnel_by_group

    return funnel_by_group(frame, group="source", stages=STAGES)


def raw_events(frame: pl.DataFrame) -> pl.DataFrame:
    """The stage history the per-lead table stands for: one row per (lead, stage entered)."""
    long = frame.with_row_index("lead_id").unpivot(
        index=["lead_id", "source"], on=STAGES, variable_name="stage", value_name="t"
    )
    return long.drop_nulls("t")


def _duckdb(frame: pl.DataFrame, repeat: int) -> float | None:
    try:
        import duckdb
    except ImportError:
        return None
    events = raw_events(frame).with_columns(pl.col("lead_id").cast(pl.Int64))
    connection = duckdb.connect()
    connection.register("events", events.to_arrow())
    firsts = ", ".join(f"min(t) FILTER (WHERE stage = '{s}') AS {s}" for s in STAGES)
    reached = [
        " OR ".join(f"{later} IS NOT NULL" for later in STAGES[i:]) for i in range(len(STAGES))
    ]
    figures = []
    for i, (stage, after) in enumerate(zip(STAGES, STAGES[1:], strict=False)):
        figures += [
            f"count(*) FILTER (WHERE {reached[i]}) AS entered_{stage}",
            f"count(*) FILTER (WHERE {reached[i + 1]}) AS converted_{stage}",
            f"median({after} - {stage}) / 86400.0 AS median_days_{stage}",
        ]
    sql = (
        f"WITH per_lead AS (SELECT lead_id, any_value(source) AS source, {firsts} "
        f"FROM events GROUP BY lead_id) SELECT source, {', '.join(figures)} "
        "FROM per_lead GROUP BY source"
    )
    return best_of(lambda: connection.execute(sql).fetchall(), repeat)


def _in_child(target: str, events: str, repeat: str, rescan: str, seed: str) -> dict:
    env = {
        **os.environ,
        "CLOSEDLOOP_DEBUG": "1",
        "CLOSEDLOOP_TASK_BACKEND": "immediate",
        "DJANGO_SETTINGS_MODULE": "closedloop.settings",
    }
    env.pop("CLOSEDLOOP_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="cl-bench-funnel-") as scratch:
        env["CLOSEDLOOP_DATA_DIR"] = scratch
        if target == "postgres":
            _fresh_pg_database()
            env["CLOSEDLOOP_DATABASE_URL"] = f"{PG_BASE}/{PG_DB}"
        here = os.path.dirname(__file__)
        code = (
            f"import json, sys; sys.path.insert(0, {here!r}); import funnel; print(json.dumps("
            f"funnel.measure({int(events)}, {int(repeat)}, {rescan == '1'}, {int(seed)})))"
        )
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-3:]}
        return json.loads(done.stdout.strip().splitlines()[-1])


def _fresh_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')


def measure(events: int, repeat: int, rescan: bool, seed: int) -> dict:
    """In the child: migrate the scratch database, write the leads, time the page's path."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from closedloop.analytics.funnel import Dimension, compute_groups, read_stages
    from closedloop.crm.models import Lead

    call_command("migrate", interactive=False, verbosity=0)
    frame = generate_stage_table(events=events, seed=seed)
    started = time.perf_counter()
    _write_leads(frame)
    result = {"database": connection.vendor, "load_s": round(time.perf_counter() - started, 1)}
    leads = Lead.objects.all()
    result["read_s"] = best_of(lambda: read_stages(leads, dimension=Dimension.SOURCE), 1)
    result["page_path_s"] = best_of(
        lambda: compute_groups(read_stages(leads, dimension=Dimension.SOURCE)), repeat
    )
    if rescan:
        _write_history(frame)
        result["rescan_s"] = best_of(_rescan_counts, 1)
        result["backfill_s"] = best_of(_backfill, 1)
    return result


def _backfill() -> None:
    """The migration that fills the stage timestamps from the history (crm 0006), on every
    lead: each row is rewritten (with the values it has), the same work as a first fill."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection, transaction

    migration = importlib.import_module("closedloop.crm.migrations.0006_backfill_stage_timestamps")
    with transaction.atomic():  # as the migration runs: one transaction
        migration.backfill(None, SimpleNamespace(connection=connection))


def _write_leads(frame: pl.DataFrame) -> None:
    from django.db import transaction

    from closedloop.core.db.columns import MISSING_TIME, fast_load, write_columns
    from closedloop.core.db.vendor import refresh_statistics
    from closedloop.crm.models import Lead

    created = frame["lead"].to_numpy()
    columns = {
        "id": np.arange(1, frame.height + 1),
        "version": np.ones(frame.height, dtype=np.int64),
        "created_at": created,
        "updated_at": created,
        "source": np.array(SOURCES, dtype=object)[frame["source"].to_numpy()],
        "lifecycle_stage": np.full(frame.height, "lead", dtype=object),
    }
    for stage in STAGES:
        columns[f"{stage}_at"] = frame[stage].fill_null(MISSING_TIME).to_numpy()
    with fast_load(), transaction.atomic():
        write_columns(Lead, columns)
    refresh_statistics()


def _write_history(frame: pl.DataFrame) -> None:
    from django.db import transaction

    from closedloop.core.db.columns import fast_load, write_columns
    from closedloop.crm.models import StageChange

    events = raw_events(frame)
    columns = {
        "id": np.arange(1, events.height + 1),
        "lead_id": events["lead_id"].to_numpy().astype(np.int64) + 1,
        "to_stage": events["stage"].to_numpy().astype(object),
        "at": events["t"].to_numpy(),
        "by_id": np.full(events.height, -1, dtype=np.int64),
        "rule_version": np.full(events.height, -1, dtype=np.int64),
    }
    with fast_load(), transaction.atomic():
        write_columns(StageChange, columns)


def _rescan_counts() -> list:
    """First arrival per lead and stage from the raw history, then per-source counts of the
    leads that reached each stage: what the funnel costs without per-lead timestamps."""
    from closedloop.core.db import vendor

    firsts = ", ".join(f"MIN(CASE WHEN sc.to_stage = '{s}' THEN sc.at END) AS {s}" for s in STAGES)
    counts = ", ".join(f"COUNT({s})" for s in STAGES)
    return vendor.fetch(
        f"SELECT l.source, {counts} FROM (SELECT sc.lead_id, {firsts} FROM crm_stagechange sc "
        "GROUP BY sc.lead_id) AS f JOIN crm_lead l ON l.id = f.lead_id GROUP BY l.source"
    )


def best_of(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def _loadavg() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())
