"""The pure reading of Segment messages (engagement/segment.py): no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop.engagement import segment
from closedloop.engagement.segment import Invalid, parse_message, parse_time

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, None]),
    )
)
def test_any_iso_timestamp_reads_back_as_the_same_instant(moment):
    expected = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    assert parse_time(moment.isoformat()) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-2-02T00:30:08.276Z", datetime(2015, 2, 2, 0, 30, 8, 276000, tzinfo=UTC)),
        ("2012-12-02T00:30:08.276Z", datetime(2012, 12, 2, 0, 30, 8, 276000, tzinfo=UTC)),
        ("2026-05-01T14:00:00+02:00", datetime(2026, 5, 1, 12, 0, tzinfo=UTC)),
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
    ],
)
def test_segment_style_timestamps_are_read(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00Z", 1700000000, ""])
def test_what_is_not_a_date_is_refused(text):
    with pytest.raises(Invalid):
        parse_time(text)


def test_original_timestamp_is_corrected_for_the_devices_clock_skew():
    # The device's clock is 10 minutes fast: it stamped 12:10 and sent at 12:10:05,
    # which the server received at 12:00:05.
    raw = {"originalTimestamp": "2026-05-01T12:10:00Z", "sentAt": "2026-05-01T12:10:05Z"}

    assert segment.occurred_at(raw, NOW + timedelta(seconds=5)) == NOW


def test_an_explicit_timestamp_wins_and_none_means_now():
    assert (
        segment.occurred_at(
            {"timestamp": "2020-01-01T00:00:00Z", "originalTimestamp": "2026-01-01T00:00:00Z"}, NOW
        ).year
        == 2020
    )
    assert segment.occurred_at({}, NOW) == NOW


def test_a_batch_shares_its_context_with_each_message_which_may_override_it():
    raw = {"type": "page", "anonymousId": "a", "context": {"ip": "1.2.3.4"}}
    defaults = {"context": {"ip": "9.9.9.9", "locale": "en-US"}}

    message = parse_message(raw, index=0, kind=None, received_at=NOW, defaults=defaults)

    assert message.context == {"ip": "1.2.3.4", "locale": "en-US"}


def test_numeric_user_ids_are_kept_as_text_and_overlong_ids_refused():
    message = parse_message({"userId": 42, "event": "X"}, index=0, kind="track", received_at=NOW)
    assert message.user_id == "42"
    with pytest.raises(Invalid, match="longer than 100"):
        parse_message({"userId": "u" * 101, "event": "X"}, index=0, kind="track", received_at=NOW)


def test_identify_traits_become_lead_fields_in_either_spelling():
    camel = segment.lead_fields(
        {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "A@X.IO",
            "company": {"name": "Analytical", "employee_count": "12"},
            "address": {"city": "London", "country": "gb"},
        }
    )
    snake = segment.lead_fields(
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "a@x.io",
            "company": "Analytical",
            "employees": 12,
            "city": "London",
            "country": "GB",
        }
    )

    assert (
        camel
        == snake
        == {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "a@x.io",
            "company": "Analytical",
            "employees": 12,
            "city": "London",
            "country": "GB",
        }
    )


def test_unusable_traits_are_dropped_not_stored_wrong():
    assert (
        segment.lead_fields(
            {
                "email": "not an email",
                "country": "United Kingdom",
                "employees": "lots",
                "title": {"nested": True},
            }
        )
        == {}
    )


def test_the_channel_comes_from_the_campaign_then_utm_then_the_touch_type():
    assert segment.channel_for("page_view", {"medium": "cpc"}, "events") == "events"
    assert segment.channel_for("page_view", {"medium": "cpc"}) == "search"
    assert segment.channel_for("ad_click", {"source": "linkedin", "medium": "cpc"}) == "social"
    assert segment.channel_for("email_open", {}) == "email"
    assert segment.channel_for("page_view", {}) == "web"


def test_group_traits_become_account_fields_with_the_websites_domain():
    assert segment.account_fields(
        {
            "name": "Initech",
            "website": "https://www.initech.com/about",
            "employees": 329,
            "industry": "Technology",
        }
    ) == {
        "name": "Initech",
        "domain": "initech.com",
        "employees": 329,
        "industry": "Technology",
    }
