"""Funnel: conversion from each lifecycle stage to the next and time in stage, by group.

Input: one row per lead with a grouping column (source, campaign, rep, cohort, ...) and one
timestamp column per stage, in funnel order (e.g. created, mql, sal, sql, opportunity, won):
the moment the lead entered that stage, or null when it never did. Timestamps are numbers of
seconds (any epoch) or polars datetimes.

Output: one row per group and stage transition (stage -> next) with
- `entered`: leads that reached the stage (have its timestamp, or a later stage's: a lead that
  skipped a stage has still passed it),
- `converted`: of those, leads that reached the next stage (or a later one),
- `conversion_rate`: converted / entered,
- `median_days`, `p90_days`: time in the stage, from entering it to entering the next stage,
  over the leads that have both timestamps (days; linear-interpolated quantiles).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

SECONDS_PER_DAY = 86_400.0


def funnel_by_group(frame: pl.DataFrame, *, group: str, stages: Sequence[str]) -> pl.DataFrame:
    """Conversion and time in stage per group; see the module docstring for the columns.

    One grouped pass computes every transition at once: "reached stage j" implies "reached
    stage i < j", so the leads converting from i are the sum of reached_(i+1), and a time in
    stage is null (ignored by the quantiles) unless both timestamps exist.
    """
    if len(stages) < 2:
        raise ValueError("a funnel needs at least two stages")
    missing = [name for name in (group, *stages) if name not in frame.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    seconds = frame.lazy().select(pl.col(group), *[_as_seconds(frame, s) for s in stages])
    wide = seconds.group_by(group).agg(*_aggregates(stages)).collect()
    return _long(wide, group, stages)


def _as_seconds(frame: pl.DataFrame, name: str) -> pl.Expr:
    column = pl.col(name)
    if isinstance(frame.schema[name], pl.Datetime):
        return column.dt.epoch("ms").cast(pl.Float64).truediv(1000.0).alias(name)
    return column.cast(pl.Float64).alias(name)


def _reached(stages: Sequence[str], i: int) -> pl.Expr:
    """The lead has stage i's timestamp or any later one."""
    return pl.any_horizontal([pl.col(s).is_not_null() for s in stages[i:]])


def _aggregates(stages: Sequence[str]) -> list[pl.Expr]:
    out = [_reached(stages, i).sum().alias(f"reached_{i}") for i in range(len(stages))]
    for i in range(len(stages) - 1):
        days = (pl.col(stages[i + 1]) - pl.col(stages[i])) / SECONDS_PER_DAY
        out.append(days.median().alias(f"median_{i}"))
        out.append(days.quantile(0.9, interpolation="linear").alias(f"p90_{i}"))
    return out


def _long(wide: pl.DataFrame, group: str, stages: Sequence[str]) -> pl.DataFrame:
    """One row per group and transition, from the one-row-per-group aggregate."""
    parts = [
        wide.select(
            pl.col(group),
            pl.lit(i, dtype=pl.Int32).alias("step"),
            pl.lit(stages[i]).alias("stage"),
            pl.lit(stages[i + 1]).alias("next_stage"),
            pl.col(f"reached_{i}").cast(pl.Int64).alias("entered"),
            pl.col(f"reached_{i + 1}").cast(pl.Int64).alias("converted"),
            (pl.col(f"reached_{i + 1}") / pl.col(f"reached_{i}")).alias("conversion_rate"),
            pl.col(f"median_{i}").alias("median_days"),
            pl.col(f"p90_{i}").alias("p90_days"),
        )
        for i in range(len(stages) - 1)
    ]
    return pl.concat(parts).filter(pl.col("entered") > 0).sort([group, "step"])
