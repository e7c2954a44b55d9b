"""closedloop.core.db: bulk inserts with conflict handling and RETURNING, chunking at the
parameter limit, value adapters, and index drop/rebuild, on whichever database runs the tests
(CI runs them on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from closedloop.core.db import chunks, indexes, insert, vendor
from closedloop.core.db.columns import MISSING_TIME, write_columns
from closedloop.crm.models import Account, Lead, Opportunity
from closedloop.demo.synth import NULL_TIME
from closedloop.engagement.models import Identity, ReceivedMessage, Touchpoint
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
TOUCH_COLUMNS = ("lead_id", "anonymous_id", "type", "channel", "occurred_at", "properties")


def _touch(n: int, lead_id: int | None = None) -> tuple:
    return (lead_id, f"anon-{n}", "web", "web", AT + timedelta(seconds=n), {"n": n})


# --- chunks ---------------------------------------------------------------------------------


def test_a_list_is_split_into_chunks_of_the_given_size_in_order():
    assert list(chunks.chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks.chunked([], 3)) == []


def test_a_chunk_size_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks.chunked([1], 0))


def test_rows_per_statement_never_binds_more_parameters_than_sqlite_takes():
    assert chunks.rows_per_statement(9) == chunks.ROWS_PER_STATEMENT
    assert chunks.rows_per_statement(100, most=10_000) * 100 <= chunks.SQLITE_MAX_PARAMETERS
    assert chunks.rows_per_statement(40_000) == 1


def test_more_ids_than_one_statement_takes_are_all_found():
    leads = [make_lead() for _ in range(3)]
    wanted = [lead.pk for lead in leads] + list(range(10**9, 10**9 + 40_000))
    found = []
    for where, params in vendor.one_of_chunks("id", wanted):
        assert len(params) <= chunks.SQLITE_MAX_PARAMETERS
        found += [
            row[0]
            for row in vendor.fetch(f"SELECT id FROM {vendor.table(Lead)} WHERE {where}", params)
        ]
    assert sorted(found) == sorted(lead.pk for lead in leads)


def test_no_ids_make_no_statement():
    assert list(vendor.one_of_chunks("id", [])) == []


# --- inserts ------------------------------------------------------------------------------


def test_inserted_rows_come_back_as_stored_with_their_ids_in_order():
    lead = make_lead()
    ids = insert.insert_rows(
        Touchpoint, TOUCH_COLUMNS, [_touch(1, lead.pk), _touch(2)], returning="id"
    )
    assert ids == sorted(ids) and len(ids) == 2
    first, second = (Touchpoint.objects.get(pk=pk) for pk in ids)
    assert (first.lead_id, first.occurred_at, first.properties) == (
        lead.pk,
        AT + timedelta(seconds=1),
        {"n": 1},
    )
    assert (second.lead_id, second.anonymous_id) == (None, "anon-2")


def test_rows_that_conflict_are_skipped_and_only_the_new_ones_are_returned():
    columns = ("message_id", "type", "received_at")
    first = insert.insert_rows(
        ReceivedMessage,
        columns,
        [("a", "identify", AT), ("b", "group", AT)],
        on_conflict=insert.ignore("message_id"),
        returning="message_id",
    )
    again = insert.insert_rows(
        ReceivedMessage,
        columns,
        [("b", "group", AT), ("c", "alias", AT), ("a", "identify", AT)],
        on_conflict=insert.ignore("message_id"),
        returning="message_id",
    )
    assert first == ["a", "b"] and again == ["c"]
    assert ReceivedMessage.objects.count() == 3


def test_an_upsert_overwrites_only_the_named_columns_of_the_stored_row():
    old, new = make_lead(), make_lead()
    columns = ("kind", "value", "lead_id", "user_id", "created_at")
    conflict = insert.upsert(("kind", "value"), update=("lead_id",))
    insert.insert_rows(
        Identity, columns, [("anonymous", "v1", old.pk, "u1", AT)], on_conflict=conflict
    )
    insert.insert_rows(
        Identity, columns, [("anonymous", "v1", new.pk, "u2", AT)], on_conflict=conflict
    )
    stored = Identity.objects.get()
    assert (stored.lead_id, stored.user_id) == (new.pk, "u1")


def test_a_conflict_without_a_rule_is_an_integrity_error():
    from django.db import IntegrityError, transaction

    columns = ("message_id", "type", "received_at")
    insert.insert_rows(ReceivedMessage, columns, [("a", "identify", AT)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert.insert_rows(ReceivedMessage, columns, [("a", "identify", AT)])


def test_an_insert_past_the_parameter_limit_is_split_and_returns_every_id():
    rows = [_touch(n) for n in range(6_000)]  # 36,000 values: over SQLite's 32,766
    ids = insert.insert_rows(Touchpoint, TOUCH_COLUMNS, rows, returning="id")
    assert len(ids) == len(set(ids)) == 6_000
    assert Touchpoint.objects.count() == 6_000
    assert Touchpoint.objects.get(pk=ids[-1]).anonymous_id == "anon-5999"


def test_rows_given_as_dicts_get_the_model_defaults_and_their_ids_back():
    ids = insert.insert_dicts(
        Account,
        [
            {"name": "Acme", "annual_revenue": Decimal("12.50"), "created_at": AT},
            {"name": "Globex", "created_at": AT, "not_a_column": 1},
        ],
    )
    acme, globex = (Account.objects.get(pk=pk) for pk in ids)
    assert (acme.name, acme.annual_revenue, globex.name) == ("Acme", Decimal("12.50"), "Globex")
    assert (acme.version, acme.domain, globex.annual_revenue) == (1, "", None)
    assert acme.updated_at is not None and acme.updated_at == globex.updated_at


def test_dates_and_decimals_are_stored_as_django_stores_them():
    account = Account.objects.create(name="Acme", created_at=AT)
    insert.insert_dicts(
        Opportunity,
        [
            {
                "name": "Deal",
                "account_id": account.pk,
                "amount": Decimal("1000.25"),
                "close_date": date(2026, 5, 1),
                "created_at": AT,
            }
        ],
        returning=None,
    )
    deal = Opportunity.objects.get()
    assert (deal.amount, deal.close_date) == (Decimal("1000.25"), date(2026, 5, 1))


def test_many_rows_are_updated_by_id_with_json_given_as_text():
    leads = [make_lead() for _ in range(3)]
    rows = [(n * 10, '["r"]', AT, lead.pk) for n, lead in enumerate(leads)]
    assert (
        insert.update_rows(
            Lead,
            ("score", "score_reasons", "scored_at"),
            rows,
            json_as_text=True,
            per_transaction=2,
        )
        == 3
    )
    stored = {
        lead.pk: (lead.score, lead.score_reasons, lead.scored_at) for lead in Lead.objects.all()
    }
    assert stored == {lead.pk: (n * 10, ["r"], AT) for n, lead in enumerate(leads)}


# --- values and fragments ------------------------------------------------------------------


def test_a_datetime_binds_as_django_would_store_it():
    expected = "2026-03-04 05:06:07.890000" if vendor.is_sqlite() else AT
    assert vendor.adapt_datetime(AT) == expected
    assert str(connection.ops.adapt_datetimefield_value(AT)) == str(expected)


def test_json_text_handles_datetimes_decimals_and_huge_integers():
    assert vendor.json_text({"a": Decimal("1.5")}) == '{"a":"1.5"}'
    assert vendor.json_text({"at": AT}).startswith('{"at":"2026-03-04T05:06:07.890')
    assert vendor.json_text([2**70]) == f"[{2**70}]"


def test_epoch_seconds_reads_a_datetime_column_as_seconds_since_1970():
    lead = make_lead()
    Lead.objects.filter(pk=lead.pk).update(created_at=AT)
    sql = f"SELECT {vendor.epoch_seconds('created_at')} FROM {vendor.table(Lead)} WHERE id = %s"
    assert vendor.fetch(sql, [lead.pk])[0][0] == pytest.approx(AT.timestamp(), abs=1e-3)


def test_column_names_come_from_the_model():
    assert vendor.column(Touchpoint, "lead").strip('"') == "lead_id"
    assert vendor.table(Touchpoint).strip('"') == Touchpoint._meta.db_table


def test_the_column_writer_uses_the_same_null_time_as_the_demo_generator():
    assert MISSING_TIME == NULL_TIME


def test_column_arrays_are_written_with_nulls_and_defaults():
    lead = make_lead()
    seconds = int(AT.timestamp())
    write_columns(
        Touchpoint,
        {
            "id": np.array([10, 11]),
            "lead_id": np.array([lead.pk, -1]),
            "type": np.array(["web", "email"], dtype=object),
            "occurred_at": np.array([seconds, seconds]),
            "received_at": np.array([seconds, seconds]),
        },
    )
    first, second = Touchpoint.objects.order_by("pk")
    assert (first.lead_id, second.lead_id, first.properties) == (lead.pk, None, {})
    assert first.occurred_at == AT.replace(microsecond=0)


def test_planner_statistics_refresh_without_error():
    make_lead()
    vendor.refresh_statistics()


# --- indexes ------------------------------------------------------------------------------


def _index_names(model) -> set[str]:
    return {index["name"] for index in indexes.secondary_indexes(model)}


def test_secondary_indexes_leave_out_constraints_and_what_the_caller_keeps():
    every = _index_names(Touchpoint)
    assert {"touch_anonymous", "touch_at", "touch_lead_at_type"} <= every
    kept = {
        i["name"] for i in indexes.secondary_indexes(Touchpoint, keep_columns=("anonymous_id",))
    }
    assert "touch_anonymous" not in kept and "touch_at" in kept
    leading = {i["name"] for i in indexes.secondary_indexes(Touchpoint, keep_leading=("lead_id",))}
    assert "touch_lead_at_type" not in leading and "touch_at" in leading


@pytest.mark.django_db(transaction=True)
def test_indexes_dropped_for_a_block_are_built_again_after_it():
    from django.db import transaction

    before = _index_names(Touchpoint)
    with transaction.atomic(), indexes.indexes_dropped(Touchpoint, keep_leading=("lead_id",)):
        assert _index_names(Touchpoint) == {n for n in before if n.startswith("touch_lead")}
        insert.insert_rows(Touchpoint, TOUCH_COLUMNS, [_touch(1)])
    assert _index_names(Touchpoint) == before


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_killed_halfway_resumes_from_its_record():
    before = _index_names(Touchpoint)
    doomed = indexes.secondary_indexes(Touchpoint, keep_unique=True)
    record: list = []
    saved = lambda missing: record.__setitem__(slice(None), missing)  # noqa: E731
    missing = indexes.drop_recorded(doomed, recorded=[], record=saved)
    assert record == missing == doomed and _index_names(Touchpoint) == before - {
        i["name"] for i in doomed
    }

    left = indexes.build_first(missing, record=saved)  # then the process dies
    assert record == left == doomed[1:] and doomed[0]["name"] in _index_names(Touchpoint)

    assert indexes.rebuild_recorded(record, record=saved) == len(doomed) - 1
    assert record == [] and _index_names(Touchpoint) == before
    assert indexes.rebuild_recorded(doomed, record=saved) == len(doomed)  # twice is harmless


def test_imports_drop_indexes_only_on_sqlite():
    found = indexes.droppable_for_load(Touchpoint, keep_columns=())
    assert bool(found) == vendor.is_sqlite()
    assert not any(i["sql"].upper().startswith("CREATE UNIQUE") for i in found)


def test_sqlite_pragmas_are_set_for_the_block_and_restored_after():
    def cache() -> int:
        return vendor.fetch("PRAGMA cache_size")[0][0] if vendor.is_sqlite() else 0

    before = cache()
    with vendor.sqlite_pragmas(cache_size=-4096) as pragmas:
        assert cache() == (-4096 if vendor.is_sqlite() else 0)
        pragmas.restore("cache_size")
        assert cache() == before
    assert cache() == before
