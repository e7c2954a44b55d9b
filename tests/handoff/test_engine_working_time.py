"""Working-time arithmetic against hand-computed cases, and its algebra as properties."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.handoff.engine import (
    WorkCalendar,
    add_working_minutes,
    working_minutes_between,
)

NINE_TO_FIVE = WorkCalendar()  # Mon–Fri 09:00–17:00 UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# 2026-11-16 is a Monday.
@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (utc(2026, 11, 16, 10, 0), 60, utc(2026, 11, 16, 11, 0)),  # same morning
        (utc(2026, 11, 16, 16, 0), 240, utc(2026, 11, 17, 12, 0)),  # 60 today, 180 tomorrow
        (utc(2026, 11, 20, 16, 30), 60, utc(2026, 11, 23, 9, 30)),  # Friday → Monday
        (utc(2026, 11, 21, 12, 0), 240, utc(2026, 11, 23, 13, 0)),  # from a Saturday
        (utc(2026, 11, 16, 7, 0), 30, utc(2026, 11, 16, 9, 30)),  # before opening
        (utc(2026, 11, 16, 19, 0), 30, utc(2026, 11, 17, 9, 30)),  # after closing
        (utc(2026, 11, 16, 9, 0), 480, utc(2026, 11, 16, 17, 0)),  # a whole day ends that day
        (utc(2026, 11, 16, 9, 0), 480 * 5, utc(2026, 11, 20, 17, 0)),  # a whole week
        (utc(2026, 11, 16, 9, 0), 480 * 10 + 1, utc(2026, 11, 30, 9, 1)),  # two weeks and a minute
    ],
)
def test_adding_working_minutes_skips_nights_and_weekends(start, minutes, due):
    assert add_working_minutes(start, minutes, NINE_TO_FIVE) == due


def test_a_holiday_is_skipped_like_a_weekend():
    # Thanksgiving 2026 is Thursday 26 November; Wednesday 16:00 + 120 minutes lands on Friday.
    calendar = WorkCalendar(holidays=(date(2026, 11, 26),))
    assert add_working_minutes(utc(2026, 11, 25, 16, 0), 120, calendar) == utc(2026, 11, 27, 10, 0)


def test_holidays_next_to_a_weekend_push_the_deadline_over_both():
    # Friday and the next Monday off: Thursday 16:00 + 120 minutes is Tuesday 10:00.
    calendar = WorkCalendar(holidays=(date(2026, 11, 20), date(2026, 11, 23)))
    assert add_working_minutes(utc(2026, 11, 19, 16, 0), 120, calendar) == utc(2026, 11, 24, 10, 0)


def test_a_holiday_on_a_weekend_changes_nothing():
    calendar = WorkCalendar(holidays=(date(2026, 11, 21),))
    start = utc(2026, 11, 20, 16, 0)
    assert add_working_minutes(start, 120, calendar) == add_working_minutes(
        start, 120, NINE_TO_FIVE
    )


def test_working_hours_are_read_in_the_team_time_zone():
    # Berlin 09:00–17:00 is 08:00–16:00 UTC in winter. 15:30 UTC is 16:30 in Berlin: 30 minutes
    # left today, 90 tomorrow from 09:00 Berlin (08:00 UTC) → 09:30 UTC.
    berlin = WorkCalendar(time_zone="Europe/Berlin")
    assert add_working_minutes(utc(2026, 11, 16, 15, 30), 120, berlin) == utc(2026, 11, 17, 9, 30)


def test_a_new_york_team_is_still_at_work_when_london_has_gone_home():
    new_york = WorkCalendar(time_zone="America/New_York")
    # 20:00 UTC on a Monday in November is 15:00 in New York: 2 hours of the day remain.
    assert add_working_minutes(utc(2026, 11, 16, 20, 0), 120, new_york) == utc(2026, 11, 16, 22, 0)


def test_a_deadline_across_the_daylight_saving_change_keeps_local_office_hours():
    # Berlin leaves summer time on Sunday 25 October 2026. Friday 16:00 local (14:00 UTC) + 120
    # minutes: 60 on Friday, then Monday 10:00 local, which is 09:00 UTC in winter time.
    berlin = WorkCalendar(time_zone="Europe/Berlin")
    start = datetime(2026, 10, 23, 16, 0, tzinfo=BERLIN)
    assert add_working_minutes(start, 120, berlin) == utc(2026, 10, 26, 9, 0)


def test_a_weekend_team_works_saturdays():
    retail = WorkCalendar(workdays=frozenset({1, 2, 3, 4, 5}), start=time(10), end=time(18))
    # Saturday 17:00 + 120 minutes: 60 on Saturday, Sunday and Monday off, Tuesday 11:00.
    assert add_working_minutes(utc(2026, 11, 21, 17, 0), 120, retail) == utc(2026, 11, 24, 11, 0)


def test_working_minutes_between_counts_only_office_hours():
    assert (
        working_minutes_between(utc(2026, 11, 20, 16, 0), utc(2026, 11, 23, 10, 0), NINE_TO_FIVE)
        == 120
    )
    assert (
        working_minutes_between(utc(2026, 11, 21, 8, 0), utc(2026, 11, 22, 20, 0), NINE_TO_FIVE)
        == 0
    )


def test_zero_minutes_from_a_weekend_is_monday_morning():
    assert add_working_minutes(utc(2026, 11, 21, 12), 0, NINE_TO_FIVE) == utc(2026, 11, 23, 9)


def test_a_calendar_without_working_days_is_refused():
    with pytest.raises(ValueError, match="workdays"):
        WorkCalendar(workdays=frozenset())


def test_a_year_of_minutes_costs_no_more_than_an_hour():
    # Arithmetic, not a loop: a 100,000-day deadline is computed at once.
    start = utc(2026, 11, 16, 10)
    due = add_working_minutes(start, 480 * 100_000, NINE_TO_FIVE)
    assert working_minutes_between(start, due, NINE_TO_FIVE) == 480 * 100_000


# -- properties -------------------------------------------------------------------------

holidays = st.lists(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=40).map(tuple)
calendars = st.builds(
    WorkCalendar,
    time_zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    start=st.sampled_from([time(8), time(9), time(9, 30)]),
    end=st.sampled_from([time(12), time(17), time(18, 45)]),
    workdays=st.sets(st.integers(0, 6), min_size=1).map(frozenset),
    holidays=holidays,
)
moments = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
minutes = st.integers(0, 60 * 24 * 200)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=moments, a=minutes, b=minutes)
def test_adding_a_then_b_minutes_equals_adding_a_plus_b(calendar, start, a, b):
    start = start.replace(microsecond=0)
    stepwise = add_working_minutes(add_working_minutes(start, a, calendar), b, calendar)
    assert stepwise == add_working_minutes(start, a + b, calendar)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=moments, m=minutes)
def test_the_result_is_always_inside_working_hours(calendar, start, m):
    assert calendar.is_working_time(add_working_minutes(start, m, calendar))


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=moments, m=st.integers(1, 60 * 24 * 200))
def test_minutes_between_start_and_result_are_the_minutes_added(calendar, start, m):
    start = start.replace(microsecond=0)
    due = add_working_minutes(start, m, calendar)
    assert due > start
    assert working_minutes_between(start, due, calendar) == m


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=moments, hours=st.integers(0, 24 * 30))
def test_working_minutes_between_never_exceed_wall_clock_minutes(calendar, start, hours):
    end = start + timedelta(hours=hours)
    assert 0 <= working_minutes_between(start, end, calendar) <= hours * 60
