"""Funnel: conversion and median time in stage by source over 10M stage events.

    closedloop bench funnel [-s events=10000000] [-s repeat=3] [-s postgres=URL]

A seeded generator makes leads that enter created -> mql -> sal -> sql -> opportunity -> won
with drop-offs, about 3.1 stage events per lead (10M events ~ 3.2M leads), over 12 sources.
The data is kept as one row per lead with one timestamp per stage (the compact per-lead stage
table the funnel needs instead of rescanning raw history). Figures:
- `engine_s`: the pure engine (polars) on the columnar frame, best of `repeat`;
- `sqlite`: the same table in a scratch SQLite file, read by one query, then the engine;
- `postgres` (with `-s postgres=URL`, a scratch database: the table is created and dropped):
  read by one `COPY ... TO STDOUT`, then the engine.
"""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from closedloop.analytics.engine.funnel import funnel_by_group

STAGES = ["created", "mql", "sal", "sql", "opportunity", "won"]
CONTINUE = [0.7, 0.85, 0.75, 0.65, 0.35]  # chance to reach the next stage, per source shifted
MEAN_DAYS = [6.0, 1.5, 10.0, 20.0, 45.0]


def run(events: str = "10000000", repeat: str = "3", postgres: str = "", seed: str = "7") -> dict:
    frame = generate_stage_table(events=int(events), seed=int(seed))
    result: dict = {
        "stage_events": int(sum(frame[s].is_not_null().sum() for s in STAGES)),
        "leads": frame.height,
        "loadavg_before": _loadavg(),
        "engine_s": _best_of(lambda: _compute(frame), int(repeat)),
        "sqlite": _sqlite(frame, int(repeat)),
    }
    if postgres:
        result["postgres"] = _postgres(frame, postgres, int(repeat))
    result["loadavg_after"] = _loadavg()
    return result


def generate_stage_table(*, events: int, seed: int) -> pl.DataFrame:
    """One row per lead: source (0-11) and the epoch second it entered each stage, or null."""
    rng = np.random.default_rng(seed)
    leads = int(events / (1 + np.cumprod(CONTINUE).sum()))
    source = rng.integers(0, 12, size=leads)
    quality = (source - 5.5) * 0.02
    columns = {"source": source, "created": rng.uniform(1.6e9, 1.66e9, size=leads)}
    alive = np.ones(leads, dtype=bool)
    previous = columns["created"]
    for i, stage in enumerate(STAGES[1:]):
        alive &= rng.random(leads) < np.clip(CONTINUE[i] + quality, 0.01, 0.99)
        previous = previous + rng.exponential(MEAN_DAYS[i] * 86_400.0, size=leads)
        columns[stage] = np.where(alive, np.round(previous), np.nan)
    return pl.DataFrame(columns).with_columns(
        pl.col(STAGES).fill_nan(None).cast(pl.Int64), pl.col("source").cast(pl.Int32)
    )


def _compute(frame: pl.DataFrame) -> pl.DataFrame:
    return funnel_by_group(frame, group="source", stages=STAGES)


def _sqlite(frame: pl.DataFrame, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "funnel.sqlite3"
        with sqlite3.connect(path) as connection:
            columns = ", ".join(f"{name} INTEGER" for name in ["source", *STAGES])
            connection.execute(f"CREATE TABLE lead_stages ({columns})")
            marks = ", ".join("?" * (len(STAGES) + 1))
            connection.executemany(f"INSERT INTO lead_stages VALUES ({marks})", frame.iter_rows())
        seconds = _best_of(lambda: _compute(_read_sqlite(path)), repeat)
        read = _best_of(lambda: _read_sqlite(path), 1)
    return {"read_and_compute_s": seconds, "read_s": read}


def _read_sqlite(path: Path) -> pl.DataFrame:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(f"SELECT source, {', '.join(STAGES)} FROM lead_stages")
        return pl.DataFrame(
            rows.fetchall(), schema=["source", *STAGES], orient="row", infer_schema_length=None
        )


def _postgres(frame: pl.DataFrame, url: str, repeat: int) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        columns = ", ".join(f"{name} bigint" for name in ["source", *STAGES])
        connection.execute("DROP TABLE IF EXISTS bench_lead_stages")
        connection.execute(f"CREATE UNLOGGED TABLE bench_lead_stages ({columns})")
        with connection.cursor().copy("COPY bench_lead_stages FROM STDIN (FORMAT csv)") as copy:
            copy.write(frame.write_csv(include_header=False))
        try:
            seconds = _best_of(lambda: _compute(_read_postgres(connection)), repeat)
            read = _best_of(lambda: _read_postgres(connection), 1)
        finally:
            connection.execute("DROP TABLE bench_lead_stages")
    return {"read_and_compute_s": seconds, "read_s": read}


def _read_postgres(connection) -> pl.DataFrame:
    buffer = io.BytesIO()
    query = (
        f"COPY (SELECT source, {', '.join(STAGES)} FROM bench_lead_stages) TO STDOUT (FORMAT csv)"
    )
    with connection.cursor().copy(query) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    schema = {"source": pl.Int32} | {name: pl.Int64 for name in STAGES}
    return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema_overrides=schema)


def _best_of(work, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def _loadavg() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())
