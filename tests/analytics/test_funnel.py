"""Funnel conversion and time in stage by group, on hand-counted leads."""

from datetime import datetime

import polars as pl
import pytest

from closedloop.analytics.engine.funnel import funnel_by_group

DAY = 86_400
STAGES = ["created", "mql", "sql", "won"]


def leads():
    return pl.DataFrame(
        {
            "source": ["web", "web", "web", "web", "ads"],
            "created": [0, 0, 0, 0, 0],
            "mql": [1 * DAY, 3 * DAY, 2 * DAY, None, None],
            "sql": [2 * DAY, None, 12 * DAY, None, None],
            # The ads lead skipped MQL and SQL: it still passed them.
            "won": [None, None, 20 * DAY, None, 9 * DAY],
        }
    )


def rows(result, source):
    return {r["stage"]: r for r in result.filter(pl.col("source") == source).iter_rows(named=True)}


def test_conversion_counts_each_lead_that_reached_the_next_stage_or_a_later_one():
    web = rows(funnel_by_group(leads(), group="source", stages=STAGES), "web")
    assert (web["created"]["entered"], web["created"]["converted"]) == (4, 3)
    assert web["created"]["conversion_rate"] == pytest.approx(0.75)
    assert (web["mql"]["entered"], web["mql"]["converted"]) == (3, 2)
    assert (web["sql"]["entered"], web["sql"]["converted"]) == (2, 1)


def test_time_in_stage_gives_the_median_and_p90_in_days():
    web = rows(funnel_by_group(leads(), group="source", stages=STAGES), "web")
    # created -> mql: 1, 2, 3 days; median 2, p90 2.8 (linear interpolation).
    assert web["created"]["median_days"] == pytest.approx(2)
    assert web["created"]["p90_days"] == pytest.approx(2.8)
    # mql -> sql: 1 and 10 days.
    assert web["mql"]["median_days"] == pytest.approx(5.5)


def test_a_lead_that_skipped_stages_counts_as_passing_them_without_a_time():
    ads = rows(funnel_by_group(leads(), group="source", stages=STAGES), "ads")
    assert ads["mql"]["entered"] == 1 and ads["mql"]["converted"] == 1
    assert ads["mql"]["median_days"] is None


def test_datetime_columns_give_the_same_figures_as_seconds():
    seconds = funnel_by_group(leads(), group="source", stages=STAGES)
    as_dates = leads().with_columns(
        pl.from_epoch(pl.col(name), time_unit="s").alias(name) for name in STAGES
    )
    assert isinstance(as_dates.schema["mql"], pl.Datetime)
    assert funnel_by_group(as_dates, group="source", stages=STAGES).equals(seconds)
    assert datetime(1970, 1, 2) == as_dates["mql"][0]


def test_missing_columns_and_one_stage_funnels_are_refused():
    with pytest.raises(ValueError, match="missing columns: campaign"):
        funnel_by_group(leads(), group="campaign", stages=STAGES)
    with pytest.raises(ValueError, match="at least two stages"):
        funnel_by_group(leads(), group="source", stages=["created"])
