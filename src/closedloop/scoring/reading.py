"""Reading leads and their touch aggregates for scoring, in a few big queries, as arrays.

`read_leads` returns LeadData (one row per lead plus the touch sums per lead and type);
`model_frame` turns it into the predictive model's input columns. The arithmetic on these
arrays is in the `engine` package; `services` scores and writes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl
from django.db import connection

from closedloop.campaigns.models import Campaign
from closedloop.core.db import vendor
from closedloop.crm.models import Lead
from closedloop.engagement.models import Touchpoint
from closedloop.scoring import engine
from closedloop.vocabulary import MARKETING_TOUCH_TYPES, TouchType

FEATURE_WINDOW_DAYS = 90  # model features count touches in a lead's first 90 days
# Sales calls and meetings follow conversion, so they would leak the outcome into the model.
MODEL_TOUCH_TYPES = tuple(str(t) for t in MARKETING_TOUCH_TYPES)
TOUCH_CHUNK = 200_000  # touch rows per fetch: bounded memory at any size
STORED_FIELDS = pl.Schema(
    {
        "fit_grade": pl.Utf8,
        "engagement_score": pl.Float64,
        "conversion_probability": pl.Float64,
        "score": pl.Int64,
        "score_reasons": pl.Utf8,
    }
)


def _epoch(column: str) -> str:
    return vendor.epoch_seconds(column)


def _in_clause(column: str, ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return "", []
    where, params = vendor.one_of(column, ids)
    return f" AND {where}", params


@dataclass
class LeadData:
    """Everything scoring needs about a set of leads, as arrays (row i is lead ids[i])."""

    ids: np.ndarray
    frame: pl.DataFrame  # LEAD_FIELDS, one row per lead
    touch_lead: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    touch_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    touch_decayed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    touch_early: np.ndarray = field(default_factory=lambda: np.zeros(0))
    type_names: list[str] = field(default_factory=list)
    # What is stored now (fit_grade, engagement_score, conversion_probability, score,
    # score_reasons), so that a rescore writes back only the leads whose scores changed.
    stored: pl.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.ids)


def read_leads(
    *,
    lead_ids: list[int] | None = None,
    half_life_days: float,
    now: datetime,
    with_stored: bool = False,
) -> LeadData:
    """Read leads and their touch aggregates per (lead, type) in two queries.

    `with_stored` also reads the scores stored now (LeadData.stored), for a rescore that
    writes back only what changed.
    """
    where, params = _in_clause("id", lead_ids)
    reasons = vendor.json_as_text("score_reasons")
    stored_sql = (
        f", fit_grade, engagement_score, conversion_probability, score, {reasons}"
        if with_stored
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, industry, employees, seniority, country, email, source, title, "
            f"original_campaign_id, lifecycle_stage, {_epoch('created_at')}{stored_sql} "
            f"FROM {vendor.table(Lead)} WHERE 1=1{where} ORDER BY id",
            params,
        )
        rows = cursor.fetchall()
    if not with_stored and 0 < len(rows) <= engine.SMALL:
        data = _few_leads(rows)
        _read_touches(data, lead_ids=lead_ids, half_life_days=half_life_days, now=now)
        return data
    stored_names = list(STORED_FIELDS) if with_stored else []
    frame = _frame_from_rows(rows, {**_READ_SCHEMA, **(STORED_FIELDS if with_stored else {})})
    stored = None
    if with_stored:
        stored = (
            frame.select(stored_names).cast(STORED_FIELDS)
            if frame.height
            else pl.DataFrame(schema=STORED_FIELDS)
        )
        frame = frame.drop(stored_names)
    frame = (
        frame.with_columns(
            pl.col("employees").cast(pl.Float64),
            pl.col("campaign").cast(pl.Utf8).replace(_campaign_names(frame["campaign"])),
            pl.col("created").cast(pl.Float64),
        )
        if frame.height
        else _empty_frame()
    )
    ids = frame["id"].to_numpy().astype(np.int64) if frame.height else np.zeros(0, dtype=np.int64)
    data = LeadData(ids=ids, frame=frame.drop("id") if frame.height else frame, stored=stored)
    _read_touches(data, lead_ids=lead_ids, half_life_days=half_life_days, now=now)
    return data


# What the lead query returns, column by column (campaign is the original campaign's id).
_READ_SCHEMA = {
    "id": pl.Int64,
    "industry": pl.Utf8,
    "employees": pl.Float64,
    "seniority": pl.Utf8,
    "country": pl.Utf8,
    "email": pl.Utf8,
    "source": pl.Utf8,
    "title": pl.Utf8,
    "campaign": pl.Int64,
    "stage": pl.Utf8,
    "created": pl.Float64,
}


def _frame_from_rows(rows: list[tuple], schema: dict) -> pl.DataFrame:
    """Rows as a frame with the expected types: at a million leads, inferring the types from
    every row took twice as long as reading with them. Values of another type (which SQLite
    allows) fall back to inference and the casts that follow."""
    try:
        return pl.DataFrame(rows, schema=schema, orient="row")
    except (TypeError, ValueError, pl.exceptions.PolarsError):
        return pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None)


def _few_leads(rows: list[tuple]) -> LeadData:
    """read_leads' frame for a few leads, built in Python: for one lead (the rescore after
    each touch) Polars' per-call overhead was most of the reading."""
    columns = {
        name: list(values)
        for name, values in zip(_READ_SCHEMA, zip(*rows, strict=True), strict=True)
    }
    names = _campaign_names(columns["campaign"])
    columns["campaign"] = [
        None if pk is None else names.get(str(pk), str(pk)) for pk in columns["campaign"]
    ]
    ids = np.array(columns.pop("id"), dtype=np.int64)
    schema = {name: _READ_SCHEMA[name] for name in columns} | {"campaign": pl.Utf8}
    return LeadData(ids=ids, frame=pl.DataFrame(columns, schema=schema))


def _campaign_names(campaign_ids: pl.Series | list) -> dict[str, str]:
    """Campaign id → name. The model must see campaigns as named categories: ids parse as
    numbers, and a reason such as "Original campaign: over 32 up to 44" tells a rep nothing.
    For a few leads only their campaigns are read (the one-lead rescore after a touch)."""
    if len(campaign_ids) > engine.SMALL:
        return {str(pk): name for pk, name in Campaign.objects.values_list("id", "name")}
    listed = campaign_ids.to_list() if isinstance(campaign_ids, pl.Series) else campaign_ids
    wanted = sorted({int(pk) for pk in listed if pk is not None})
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, name FROM {Campaign._meta.db_table} "
            f"WHERE id IN ({', '.join(['%s'] * len(wanted))})",
            wanted,
        )
        return {str(pk): name for pk, name in cursor.fetchall()}


def _empty_frame() -> pl.DataFrame:
    # The frame read_leads builds, with no rows (campaigns are names by then).
    return pl.DataFrame(schema=_READ_SCHEMA | {"campaign": pl.Utf8})


def _read_touches(data: LeadData, *, lead_ids, half_life_days: float, now: datetime) -> None:
    # One pass over the touch index (lead_id, occurred_at, type), a row per touch, summed per
    # (lead, type) in NumPy. Grouping in the database instead made SQLite sort every touch by
    # (lead, type) in a temporary B-tree, which was most of the rescore's time. Each row is
    # two numbers, the cheapest the driver can build: lead id and type code packed in one
    # integer (the type found by a CASE, which SQLite runs twice as fast as searching a list
    # of names), and the time in epoch seconds.
    where, params = _in_clause("lead_id", lead_ids)
    names = _touch_type_names()
    slots = len(names) + 1  # type code + 1, 0 for a type outside the list
    case = " ".join("WHEN %s THEN " + str(code + 1) for code in range(len(names)))
    sql = (
        f"SELECT lead_id * {slots} + (CASE type {case} ELSE 0 END), {_epoch('occurred_at')} "
        f"FROM {vendor.table(Touchpoint)} WHERE lead_id IS NOT NULL{where}"
    )
    created = data.frame["created"].to_numpy() if len(data) else np.zeros(0)
    n_types, n_leads = len(names), len(data)
    decayed = np.zeros(n_leads * n_types)
    early = np.zeros(n_leads * n_types)
    seen = np.zeros(n_leads * n_types, dtype=bool)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*names, *params])
        while rows := cursor.fetchmany(TOUCH_CHUNK):
            chunk = np.fromiter(rows, dtype=_TOUCH_ROW, count=len(rows))
            lead_id, codes = np.divmod(chunk["key"], slots)
            codes -= 1
            lead = np.minimum(np.searchsorted(data.ids, lead_id), max(n_leads - 1, 0))
            at = chunk["at"]
            # A lead created after the lead query (or a type outside the list) is skipped.
            known = (codes >= 0) & (data.ids[lead] == lead_id) if n_leads else codes < -1
            lead, codes, at = lead[known], codes[known], at[known]
            if not len(lead):
                continue
            cell = lead * n_types + codes
            age_days = (now.timestamp() - at) / 86400.0
            weight = engine.decay_weights(age_days, half_life_days)
            in_window = (at - created[lead]) < FEATURE_WINDOW_DAYS * 86400
            # The rows come in lead order, so a chunk's cells span a short range: summing over
            # that range, not over every lead's cells, keeps each chunk's work to its size.
            low, high = int(cell.min()), int(cell.max()) + 1
            decayed[low:high] += np.bincount(cell - low, weights=weight, minlength=high - low)
            early[low:high] += np.bincount(cell - low, weights=in_window, minlength=high - low)
            seen[cell] = True
    cells = np.flatnonzero(seen)
    data.type_names = names
    data.touch_lead = cells // max(n_types, 1)
    data.touch_type = cells % max(n_types, 1)
    data.touch_decayed = decayed[cells]
    data.touch_early = early[cells]


# np.fromiter into a structured array is the fastest way from driver tuples to arrays.
_TOUCH_ROW = np.dtype([("key", np.int64), ("at", np.float64)])


def _touch_type_names() -> list[str]:
    """Every touch type the scorer can weigh: the recorded kinds (vocabulary.TouchType)."""
    return sorted(str(kind) for kind in TouchType)


def model_input(data: LeadData) -> pl.DataFrame | dict[str, list]:
    """The predictive model's input columns: who the lead is and what they did early on. For a
    few leads a dict of column → values (the engine's encoder takes both)."""
    return _model_rows(data) if len(data) <= engine.SMALL else model_frame(data)


def model_frame(data: LeadData) -> pl.DataFrame:
    """model_input as a Polars frame, for any number of leads."""
    frame = data.frame
    email = frame["email"].fill_null("").str.to_lowercase()
    features = frame.select(
        "industry", "employees", "seniority", "country", "source", "title", "campaign"
    ).with_columns(
        email_domain=email.str.split_exact("@", 1).struct.field("field_1"),
    )
    n, n_types = len(data), len(data.type_names)
    # Each (lead, type) pair appears once in the touch arrays: one scatter fills every column
    # (a row per type, so each column handed to Polars is contiguous and not copied again).
    early = np.zeros((max(n_types, 1), n))
    early[data.touch_type, data.touch_lead] = data.touch_early
    counts = {
        f"touches_{name}": early[data.type_names.index(name)]
        if name in data.type_names
        else np.zeros(n)
        for name in MODEL_TOUCH_TYPES
    }
    return features.with_columns(**{k: pl.Series(v) for k, v in counts.items()})


def _model_rows(data: LeadData) -> dict[str, list]:
    """model_frame for a few leads, as lists: Polars' per-call overhead dominates tiny inputs."""
    frame = data.frame
    rows: dict[str, list] = {
        name: frame[name].to_list()
        for name in ("industry", "employees", "seniority", "country", "source", "title", "campaign")
    }
    rows["email_domain"] = [
        (e or "").lower().partition("@")[2] or None for e in frame["email"].to_list()
    ]
    for name in MODEL_TOUCH_TYPES:
        column = [0.0] * len(data)
        if name in data.type_names:
            code = data.type_names.index(name)
            for lead, kind, early in zip(
                data.touch_lead.tolist(),
                data.touch_type.tolist(),
                data.touch_early.tolist(),
                strict=True,
            ):
                if kind == code:
                    column[lead] += early
        rows[f"touches_{name}"] = column
    return rows


def read_stages() -> LeadData:
    """Every lead's stage and creation time only: what the outcome labels need."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, lifecycle_stage, {_epoch('created_at')} FROM {vendor.table(Lead)} "
            "ORDER BY id"
        )
        rows = cursor.fetchall()
    ids, stage, created = zip(*rows, strict=True) if rows else ((), (), ())
    frame = pl.DataFrame(
        {"stage": pl.Series(stage, dtype=pl.Utf8), "created": pl.Series(created, dtype=pl.Float64)}
    )
    return LeadData(ids=np.array(ids, dtype=np.int64), frame=frame)
