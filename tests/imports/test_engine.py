"""The pure part: column recognition, value parsing, encodings and resumable record reading."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from closedloop.imports import engine
from closedloop.imports.engine import (
    BadValue,
    Format,
    Kind,
    RowConverter,
    detect_mapping,
    validate_mapping,
)
from closedloop.imports.reading import RecordReader, inspect_file

HUBSPOT_CONTACT_HEADERS = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Job Title",
    "Company Name",
    "Lifecycle Stage",
    "Lead Status",
    "Create Date",
    "Original Source",
    "Contact owner",
    "Industry",
    "Number of Employees",
    "Country/Region",
    "Marketing contact status",
]
SALESFORCE_LEAD_HEADERS = [
    "Lead ID",
    "First Name",
    "Last Name",
    "Email",
    "Title",
    "Company",
    "Lead Source",
    "Lead Status",
    "Industry",
    "No. of Employees",
    "Country",
    "Created Date",
    "Lead Owner",
]


def test_hubspot_contact_export_columns_are_recognised():
    mapping = detect_mapping(HUBSPOT_CONTACT_HEADERS, Kind.LEADS, Format.HUBSPOT)
    assert mapping == {
        "Record ID": "external_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Job Title": "title",
        "Company Name": "company",
        "Lifecycle Stage": "lifecycle_stage",
        "Lead Status": "status",
        "Create Date": "created_at",
        "Original Source": "source",
        "Contact owner": "owner",
        "Industry": "industry",
        "Number of Employees": "employees",
        "Country/Region": "country",
        "Marketing contact status": "",
    }


def test_salesforce_lead_report_columns_are_recognised():
    mapping = detect_mapping(SALESFORCE_LEAD_HEADERS, Kind.LEADS, Format.SALESFORCE)
    assert mapping["Lead ID"] == "external_id"
    assert mapping["Title"] == "title" and mapping["Company"] == "company"
    assert mapping["Lead Source"] == "source" and mapping["No. of Employees"] == "employees"
    assert mapping["Created Date"] == "created_at" and mapping["Lead Owner"] == "owner"


def test_the_same_column_name_means_different_fields_in_different_reports():
    # "Account ID" is the record's own id in an account report, a reference in an opportunity one.
    assert detect_mapping(["Account ID"], Kind.ACCOUNTS, Format.SALESFORCE) == {
        "Account ID": "external_id"
    }
    assert detect_mapping(["Account ID"], Kind.OPPORTUNITIES, Format.SALESFORCE) == {
        "Account ID": "account_external_id"
    }


def test_generic_files_match_our_names_and_common_synonyms_loosely():
    mapping = detect_mapping(
        ["E-mail", "first_name", "SURNAME", "Headcount", "Stage"], Kind.LEADS, Format.GENERIC
    )
    assert mapping == {
        "E-mail": "email",
        "first_name": "first_name",
        "SURNAME": "last_name",
        "Headcount": "employees",
        "Stage": "lifecycle_stage",
    }


def test_a_field_is_mapped_from_one_column_only():
    mapping = detect_mapping(["Email", "email address"], Kind.LEADS, Format.GENERIC)
    assert mapping == {"Email": "email", "email address": ""}


def test_a_mapping_without_a_required_field_or_with_a_field_twice_is_refused():
    assert validate_mapping({"Name": "first_name"}, Kind.LEADS) == [
        "no column is mapped to Email or External id (required)"
    ]
    problems = validate_mapping({"A": "email", "B": "email"}, Kind.LEADS)
    assert problems == ["columns 'A' and 'B' both map to 'email'"]


@pytest.mark.parametrize(
    ("value", "stage"),
    [
        ("marketingqualifiedlead", "mql"),
        ("Marketing Qualified Lead", "mql"),
        ("MQL", "mql"),
        ("salesqualifiedlead", "sql"),
        ("Sales Accepted Lead", "sal"),
        ("evangelist", "customer"),
        ("subscriber", "subscriber"),
        ("Opportunity", "opportunity"),
    ],
)
def test_hubspot_lifecycle_values_and_labels_map_to_our_stages(value, stage):
    assert engine.TARGETS[Kind.LEADS]["lifecycle_stage"].parse(value) == stage


def test_an_unknown_lifecycle_stage_is_an_error_not_a_guess():
    with pytest.raises(BadValue, match="unknown lifecycle stage 'Interested'"):
        engine.TARGETS[Kind.LEADS]["lifecycle_stage"].parse("Interested")


@pytest.mark.parametrize(
    ("value", "stage"),
    [
        ("Closed Won", "won"),
        ("closedwon", "won"),
        ("Closed Lost", "lost"),
        ("Prospecting", "discovery"),
        ("Proposal/Price Quote", "proposal"),
        ("Negotiation/Review", "negotiation"),
        ("contractsent", "negotiation"),
        ("appointmentscheduled", "discovery"),
    ],
)
def test_salesforce_and_hubspot_deal_stages_map_to_ours(value, stage):
    assert engine.TARGETS[Kind.OPPORTUNITIES]["stage"].parse(value) == stage


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15 10:23", datetime(2024, 1, 15, 10, 23, tzinfo=UTC)),
        ("2024-01-15T10:23:00Z", datetime(2024, 1, 15, 10, 23, tzinfo=UTC)),
        ("2024-01-15T12:23:00+02:00", datetime(2024, 1, 15, 10, 23, tzinfo=UTC)),
        ("1/15/2024", datetime(2024, 1, 15, tzinfo=UTC)),
        ("1/15/2024, 10:23 AM", datetime(2024, 1, 15, 10, 23, tzinfo=UTC)),
        ("1/15/2024 2:05 PM", datetime(2024, 1, 15, 14, 5, tzinfo=UTC)),
        ("15.01.2024", datetime(2024, 1, 15, tzinfo=UTC)),
        ("1705314180000", datetime(2024, 1, 15, 10, 23, tzinfo=UTC)),
    ],
)
def test_dates_in_hubspot_and_salesforce_formats_are_read_as_utc(value, expected):
    assert engine.moment(value) == expected


@pytest.mark.parametrize("value", ["15/01/2024", "yesterday", "2024-13-01", "0001-01-01"])
def test_unreadable_dates_are_errors(value):
    with pytest.raises(BadValue, match="bad date"):
        engine.moment(value)


def test_close_dates_are_calendar_days():
    assert engine.day("3/31/2024") == date(2024, 3, 31)
    assert engine.day("2024-03-31") == date(2024, 3, 31)


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("1,200", 1200),
        ("51-200", 51),
        ("10000+", 10000),
        ("850.0", 850),
    ],
)
def test_employee_counts_and_hubspot_ranges_are_whole_numbers(value, count):
    assert engine.integer(value) == count


def test_amounts_drop_currency_symbols_and_separators():
    assert engine.money("$48,000.00") == Decimal("48000.00")
    assert engine.money("1234.5 USD") == Decimal("1234.50")
    with pytest.raises(BadValue):
        engine.money("-5")


@pytest.mark.parametrize(
    "value", ["bob@acme", "no-at-sign.com", "a@@b.com", "a b@c.com", "x@y..com"]
)
def test_bad_emails_are_refused(value):
    with pytest.raises(BadValue, match="bad email"):
        engine.email(value)


def test_email_domains_are_lower_cased():
    assert engine.email("Ada@Engines.IO") == "Ada@engines.io"


def test_countries_by_name_or_code():
    assert engine.country("United States") == "US"
    assert engine.country("gb") == "GB"
    assert engine.country("The Netherlands") == "NL"
    with pytest.raises(BadValue, match="unknown country"):
        engine.country("Atlantis")


def test_websites_become_domains():
    assert engine.domain("https://www.Acme.com/about") == "acme.com"
    with pytest.raises(BadValue):
        engine.domain("not a site")


def test_a_row_collects_every_bad_cell_with_its_column():
    converter = RowConverter(
        ["Email", "Create Date", "Lifecycle Stage"],
        {"Email": "email", "Create Date": "created_at", "Lifecycle Stage": "lifecycle_stage"},
        Kind.LEADS,
    )
    row = converter.convert(7, ["bad@", "someday", "lead"])
    assert row.line == 7
    assert [(column, reason.split(" ")[0]) for column, _, reason in row.errors] == [
        ("Email", "bad"),
        ("Create Date", "bad"),
    ]
    assert row.values == {"lifecycle_stage": "lead"}


def test_a_row_with_more_cells_than_the_header_fails_whole():
    converter = RowConverter(["Email"], {"Email": "email"}, Kind.LEADS)
    row = converter.convert(3, ["a@b.com", "surplus"])
    assert row.errors == [("", "", "has 2 cells where the header has 1")]


def test_utf8_with_or_without_bom_is_read_as_utf8():
    assert inspect_file(io.BytesIO("Email\né@x.com\n".encode())).encoding == "utf-8-sig"
    facts = inspect_file(io.BytesIO("\ufeffEmail\né@x.com\n".encode()))
    assert facts.encoding == "utf-8-sig" and facts.note == ""


def test_a_cp1252_file_is_read_as_cp1252_with_a_note():
    facts = inspect_file(io.BytesIO("Name\nRenée Müller – “quoted”\n".encode("cp1252")))
    assert facts.encoding == "cp1252"
    assert "Windows-1252" in facts.note


def test_bytes_valid_in_no_encoding_fall_back_to_utf8_with_a_note():
    facts = inspect_file(io.BytesIO(b"Name\n\x81\x8d\xff\n"))
    assert facts.encoding == "utf-8-sig" and "neither" in facts.note


def test_records_report_where_they_start_and_where_to_resume():
    data = b'a,b\n1,"two\nlines"\n3,4\n'
    reader = RecordReader(io.BytesIO(data), "utf-8-sig")
    seen = [(line, cells, reader.offset) for line, cells in reader]
    assert seen == [(1, ["a", "b"], 4), (2, ["1", "two\nlines"], 18), (4, ["3", "4"], 22)]
    resumed = RecordReader(io.BytesIO(data), "utf-8-sig", start=18, start_line=4)
    assert list(resumed) == [(4, ["3", "4"])]
