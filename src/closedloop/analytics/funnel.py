"""The funnel from the database: conversion and time in stage per group, from the leads' stage
timestamps (never the raw stage history).

`read_stages(leads, dimension=...)` reads, in one query on the raw cursor, only the columns
the funnel needs: the group key and the epoch seconds at which each lead entered each funnel
stage (`Lead.lead_at`, `mql_at`, ... `customer_at`, decision 0028). `funnel_report` feeds them
to the pure engine (`analytics/engine/funnel.py`) for one dimension, with the whole scope's row
and the trend by cohort month. `funnel_measures` (in `analytics/velocity.py`) gives goal
planning its measured rates and lags.

Dimensions: source, campaign (the lead's original campaign), channel (that campaign's channel),
industry, size (employee band), country, rep (owner), team (the owner's team) and cohort (the
month the lead was created, UTC). Leads without a value form the group "none".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import numpy as np
import polars as pl
from django.db import models
from django.db.models import F, QuerySet

from closedloop.analytics.engine.funnel import funnel_by_group
from closedloop.campaigns.models import Campaign, Channel
from closedloop.core.db import vendor
from closedloop.core.models import Team, User
from closedloop.crm.filters import SIZE_BANDS
from closedloop.crm.models import LeadSource, LifecycleStage, entered_field

# The main line of the funnel, top first. A lead enters it as a Lead (created as one, or
# promoted from subscriber); one created further down (e.g. imported at MQL) has passed the
# stages above it. Recycled and disqualified are exits, not steps.
STAGES: tuple[str, ...] = (
    LifecycleStage.LEAD.value,
    LifecycleStage.MQL.value,
    LifecycleStage.SAL.value,
    LifecycleStage.SQL.value,
    LifecycleStage.OPPORTUNITY.value,
    LifecycleStage.CUSTOMER.value,
)
NONE_KEY = "none"  # the group of leads without a value (no campaign, no industry, ...)
ALL_KEY = "all"  # the whole scope's row


class Dimension(models.TextChoices):
    SOURCE = "source", "Source"
    CAMPAIGN = "campaign", "Campaign"
    CHANNEL = "channel", "Channel"
    INDUSTRY = "industry", "Industry"
    SIZE = "size", "Company size"
    COUNTRY = "country", "Country"
    REP = "rep", "Rep"
    TEAM = "team", "Team"
    COHORT = "cohort", "Cohort (month created)"


# The lead lookup each dimension's group key comes from.
KEY_LOOKUP: dict[str, str] = {
    Dimension.SOURCE: "source",
    Dimension.CAMPAIGN: "original_campaign_id",
    Dimension.CHANNEL: "original_campaign__channel",
    Dimension.INDUSTRY: "industry",
    Dimension.SIZE: "employees",
    Dimension.COUNTRY: "country",
    Dimension.REP: "owner_id",
    Dimension.TEAM: "owner__team_id",
    Dimension.COHORT: "created_at",
}


def read_stages(leads: QuerySet, *, dimension: str) -> pl.DataFrame:
    """One row per lead of `leads`: `key`, its group in `dimension` as text (None: no value),
    `cohort`, the month it was created ("YYYY-MM", UTC), and one column per stage of STAGES
    with the epoch seconds (float) at which the lead entered it, null when it never did.

    One SELECT of only these columns on the raw cursor; the database turns datetimes into
    epoch seconds (`vendor.epoch_seconds`), so Python never builds a datetime per lead.
    """
    stage_columns = {f"s{i}": F(entered_field(s)) for i, s in enumerate(STAGES)}
    key = KEY_LOOKUP[dimension] if dimension != Dimension.COHORT else "id"  # key from created
    selected = leads.order_by().annotate(k=F(key), c=F("created_at"), **stage_columns)
    inner, params = selected.values_list("k", "c", *stage_columns).query.sql_with_params()
    # NULL arrives as a sentinel float: NumPy converts a tuple of floats in C, one holding
    # None only through Python objects (several times slower at millions of rows).
    seconds = ", ".join(
        f"COALESCE({vendor.epoch_seconds(name)}, {NEVER})" for name in ("c", *stage_columns)
    )
    rows = vendor.fetch(f"SELECT k, {seconds} FROM ({inner}) AS funnel_leads", params)
    return _frame(rows, dimension)


NEVER = -1e18  # "no timestamp" in read_stages' query (epoch seconds are never below it)


def _frame(rows: list[tuple], dimension: str) -> pl.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * (len(STAGES) + 2)
    months = _months(columns[1])
    data = {"key": months if dimension == Dimension.COHORT else _keys(columns[0], dimension)}
    data["cohort"] = months.alias("cohort")
    for stage, values in zip(STAGES, columns[2:], strict=True):
        seconds = np.array(values, dtype=np.float64)
        seconds[seconds == NEVER] = np.nan
        data[stage] = pl.Series(stage, seconds).fill_nan(None)
    return pl.DataFrame(data)


def _months(seconds: tuple) -> pl.Series:
    """Epoch seconds as their UTC month, "YYYY-MM"."""
    millis = pl.Series(np.array(seconds, dtype=np.float64) * 1000).cast(pl.Int64)
    return millis.cast(pl.Datetime("ms")).dt.strftime("%Y-%m").alias("key")


def _keys(values: tuple, dimension: str) -> pl.Series:
    """The group keys as text: band names for sizes, ids and values as they are."""
    if dimension == Dimension.SIZE:
        return pl.Series("key", [size_band(v) for v in values], dtype=pl.String)
    return pl.Series("key", [None if v in (None, "") else str(v) for v in values], pl.String)


def size_band(employees: int | None) -> str | None:
    """The SIZE_BANDS name holding `employees` (None when unknown)."""
    if employees is None:
        return None
    for name, (low, high) in SIZE_BANDS.items():
        if employees >= low and (high is None or employees <= high):
            return name
    return None


@dataclass(frozen=True)
class Step:
    """One transition stage → next for one group: counts, rate and days in the stage."""

    stage: str
    next_stage: str
    entered: int
    converted: int
    conversion_rate: float
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class Group:
    """A group's funnel: its key (ALL_KEY for the whole scope), label and steps in order."""

    key: str
    label: str
    leads: int
    steps: list[Step]


@dataclass(frozen=True)
class FunnelReport:
    """The funnel of one dimension: the whole scope first, then each group by size."""

    dimension: str
    since: datetime
    until: datetime
    total: Group | None
    groups: list[Group]
    trend: list[Group]  # the whole scope by cohort month, oldest first


def compute_groups(frame: pl.DataFrame) -> dict[str, list[Step]]:
    """The engine on a read_stages frame: steps per group key (NONE_KEY for no value)."""
    if frame.height == 0:
        return {}
    keyed = frame.with_columns(pl.col("key").fill_null(NONE_KEY))
    result = funnel_by_group(keyed, group="key", stages=list(STAGES))
    steps: dict[str, list[Step]] = {}
    for row in result.iter_rows(named=True):
        steps.setdefault(row["key"], []).append(_step(row))
    return steps


def _step(row: dict) -> Step:
    return Step(
        stage=row["stage"],
        next_stage=row["next_stage"],
        entered=row["entered"],
        converted=row["converted"],
        conversion_rate=row["conversion_rate"],
        median_days=row["median_days"],
        p90_days=row["p90_days"],
    )


def funnel_report(
    leads: QuerySet, *, dimension: str, since: datetime, until: datetime
) -> FunnelReport:
    """The funnel of the leads of `leads` created in [since, until), by `dimension`.

    Groups are
    listed by the number of leads that entered the funnel, largest first; the trend is the
    whole scope's funnel per cohort month. One read of the stage columns, no history scan.
    """
    period = leads.filter(created_at__gte=since, created_at__lt=until)
    frame = read_stages(period, dimension=dimension)
    by_group = compute_groups(frame)
    total = compute_groups(frame.with_columns(pl.lit(ALL_KEY).alias("key"))).get(ALL_KEY)
    names = group_labels(dimension, [k for k in by_group if k != NONE_KEY])
    groups = [
        Group(key, names.get(key, "(none)" if key == NONE_KEY else key), _size(s), s)
        for key, s in by_group.items()
    ]
    groups.sort(key=lambda g: (-g.leads, g.label))
    by_month = compute_groups(frame.with_columns(pl.col("cohort").alias("key")))
    trend = [Group(key, key, _size(s), s) for key, s in sorted(by_month.items())]
    return FunnelReport(
        dimension=dimension,
        since=since,
        until=until,
        total=Group(ALL_KEY, "All leads", _size(total), total) if total else None,
        groups=groups,
        trend=trend,
    )


def _size(steps: list[Step]) -> int:
    return steps[0].entered if steps and steps[0].stage == STAGES[0] else 0


def group_labels(dimension: str, keys: list[str]) -> dict[str, str]:
    """Display names of a dimension's group keys (campaign, rep and team ids → names; sources
    and channels → their labels; other keys name themselves)."""
    if dimension == Dimension.SOURCE:
        return {k: str(LeadSource(k).label) for k in keys if k in LeadSource.values}
    if dimension == Dimension.CHANNEL:
        return {k: str(Channel(k).label) for k in keys if k in Channel.values}
    ids = [int(k) for k in keys if k.isdigit()]
    if dimension == Dimension.CAMPAIGN:
        return {str(c.pk): c.name for c in Campaign.objects.filter(pk__in=ids)}
    if dimension == Dimension.REP:
        return {str(u.pk): u.display_name for u in User.objects.filter(pk__in=ids)}
    if dimension == Dimension.TEAM:
        return {str(t.pk): t.name for t in Team.objects.filter(pk__in=ids)}
    return {k: k for k in keys}


# The leads list's filter (crm.filters) that selects one group of each dimension.
_GROUP_FILTER = {
    Dimension.SOURCE: "source",
    Dimension.CAMPAIGN: "campaign",
    Dimension.CHANNEL: "channel",
    Dimension.INDUSTRY: "industry",
    Dimension.SIZE: "size",
    Dimension.COUNTRY: "country",
    Dimension.REP: "owner",
    Dimension.TEAM: "team",
}


def drill_down_query(
    *,
    dimension: str,
    key: str,
    stage: str,
    since: datetime,
    until: datetime,
    team: int | None = None,
) -> str:
    """The leads list's query string for the leads behind a figure: those of group `key` (or
    ALL_KEY) created in [since, until) that reached `stage` (a lead counted as entering stage
    s, or as converting from the stage before s). Cohort groups narrow the creation days to
    their month."""
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    params = {"reached": stage}
    if key != ALL_KEY and dimension == Dimension.COHORT:
        month = date.fromisoformat(f"{key}-01")
        following = (month + timedelta(days=32)).replace(day=1)
        first, last = max(first, month), min(last, following - timedelta(days=1))
    elif key != ALL_KEY:
        params[_GROUP_FILTER[Dimension(dimension)]] = key
    params |= {"created_from": first.isoformat(), "created_to": last.isoformat()}
    if team is not None:
        params["team"] = str(team)
    return urlencode(params)
