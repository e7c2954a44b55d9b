"""A large SQLite import drops the lead table's secondary indexes and builds them again, and
whatever stops it (an error, a killed process), the indexes come back and a resume ends in
the state of a clean run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from closedloop.core.db import indexes as db_indexes
from closedloop.crm.models import Lead, StageChange
from closedloop.imports import indexes, services
from closedloop.imports.models import ImportJob, ImportStatus
from closedloop.imports.services import create_import_job, run_import
from tests.imports.helpers import accounted, write
from tests.imports.test_resume import Crash, clean_run, messy_file, state

sqlite_only = pytest.mark.skipif(
    "connection.vendor != 'sqlite'", reason="only SQLite imports drop indexes"
)
# Indexes on the upsert keys, which the import reads while it runs, and those of the stage
# history that start with the lead (new leads' rows only append to them).
LOOKUP_INDEXES = {
    ("crm_lead", "lead_email_lower"),
    ("crm_lead", "lead_external_id"),
    ("crm_stagechange", "stagechange_lead_at"),
    ("crm_stagechange", "stagechange_to_lead"),
}


def lead_indexes() -> dict[tuple[str, str], tuple]:
    """{(table, index name): columns} of the lead and stage-change tables, the primary keys
    and unique constraints left out."""
    found = {}
    with connection.cursor() as cursor:
        for table in (Lead._meta.db_table, StageChange._meta.db_table):
            for name, c in connection.introspection.get_constraints(cursor, table).items():
                if c["index"] and not c["primary_key"] and not c["unique"]:
                    found[table, name] = tuple(c["columns"] or ())
    return found


@pytest.fixture
def drop_always(settings):
    settings.IMPORT_INDEX_DROP_ROWS = 1


def _job(path: Path) -> ImportJob:
    return create_import_job(path=path, file_name="messy.csv", kind="leads", fmt="hubspot")


def test_the_sort_wins_when_the_import_is_large_against_the_table(settings):
    settings.IMPORT_INDEX_DROP_ROWS = 50_000
    assert not indexes.worth_dropping(rows_to_import=49_999, rows_in_table=0)
    assert indexes.worth_dropping(rows_to_import=50_000, rows_in_table=0)
    assert indexes.worth_dropping(rows_to_import=100_000, rows_in_table=1_000_000)
    assert not indexes.worth_dropping(rows_to_import=99_999, rows_in_table=1_000_000)


@sqlite_only
def test_a_large_import_runs_without_the_secondary_indexes_and_builds_them_after(
    tmp_path, drop_always
):
    before = lead_indexes()
    assert LOOKUP_INDEXES <= set(before) and len(before) > len(LOOKUP_INDEXES)
    during = []
    job = _job(messy_file(tmp_path))
    run_import(job, chunk_size=7, on_chunk=lambda job: during.append(set(lead_indexes())))
    assert during and all(names == LOOKUP_INDEXES for names in during)
    assert lead_indexes() == before
    job.refresh_from_db()
    assert job.dropped_indexes == [] and job.status == ImportStatus.DONE


@sqlite_only
def test_a_file_imported_again_creates_nothing_and_keeps_every_index(tmp_path, drop_always):
    path = messy_file(tmp_path)
    run_import(_job(path), chunk_size=7)
    before = lead_indexes()
    during = []
    again = create_import_job(path=path, file_name="again.csv", kind="leads", fmt="hubspot")
    run_import(again, chunk_size=7, on_chunk=lambda job: during.append(lead_indexes()))
    assert again.created == 0 and again.dropped_indexes == []
    assert during and all(found == before for found in during)


def test_a_small_import_keeps_every_index(tmp_path, settings):
    settings.IMPORT_INDEX_DROP_ROWS = 1_000
    before = lead_indexes()
    during = []
    job = _job(messy_file(tmp_path))
    run_import(job, chunk_size=7, on_chunk=lambda job: during.append(lead_indexes()))
    assert during and all(found == before for found in during)
    assert job.dropped_indexes == []


def test_an_import_into_a_much_larger_table_keeps_its_indexes(tmp_path, settings):
    settings.IMPORT_INDEX_DROP_ROWS = 1
    now = timezone.now()
    Lead.objects.bulk_create(Lead(email=f"old{n}@acme.com", created_at=now) for n in range(700))

    def of_leads() -> dict:
        return {key: columns for key, columns in lead_indexes().items() if key[0] == "crm_lead"}

    before = of_leads()
    during = []
    run_import(
        _job(messy_file(tmp_path)),
        chunk_size=7,
        on_chunk=lambda job: during.append(of_leads()),
    )
    # Decided per table: the lead table keeps its indexes (the empty stage history need not).
    assert during and all(found == before for found in during)


@sqlite_only
@pytest.mark.parametrize("crash_after", [0, 3])
def test_an_import_that_fails_builds_the_indexes_and_resumes_to_the_clean_result(
    tmp_path, drop_always, crash_after
):
    path = messy_file(tmp_path)
    before = lead_indexes()
    expected = clean_run(path)
    job = _job(path)
    done = []

    def crash(job):
        done.append(job.line)
        if len(done) > crash_after:
            raise Crash

    with pytest.raises(Crash):
        run_import(job, chunk_size=7, on_chunk=crash)
    job.refresh_from_db()
    assert job.status == ImportStatus.INTERRUPTED and job.dropped_indexes == []
    assert lead_indexes() == before
    run_import(job, chunk_size=7)
    assert state() == expected and accounted(job) == 60
    assert lead_indexes() == before


def _kill(job: ImportJob) -> None:
    """Leave the job as SIGKILL leaves it: RUNNING, owned by a process of this host that is gone."""
    import socket

    dead = 2**22 + 12345  # above Linux's default pid_max
    assert not os.path.exists(f"/proc/{dead}")
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, worker=f"{socket.gethostname()}:{dead}"
    )


def _no_rebuild_on_failure(monkeypatch) -> None:
    """A killed process never reaches the failure path's rebuild."""
    monkeypatch.setattr(services, "_rebuild_after_failure", lambda job: None)


@sqlite_only
def test_a_killed_import_builds_its_indexes_when_it_resumes(tmp_path, drop_always, monkeypatch):
    path = messy_file(tmp_path)
    before = lead_indexes()
    expected = clean_run(path)
    job = _job(path)

    def die(job):
        raise Crash

    _no_rebuild_on_failure(monkeypatch)
    with pytest.raises(Crash):
        run_import(job, chunk_size=7, on_chunk=die)
    job.refresh_from_db()
    assert set(lead_indexes()) == LOOKUP_INDEXES
    assert {(i["table"], i["name"]) for i in job.dropped_indexes} == set(before) - LOOKUP_INDEXES
    _kill(job)
    run_import(job, chunk_size=7)
    assert state() == expected
    assert lead_indexes() == before


@sqlite_only
def test_the_next_import_builds_the_indexes_a_dead_import_left_dropped(tmp_path, drop_always):
    before = lead_indexes()
    dead = _job(messy_file(tmp_path))
    indexes.drop_indexes(
        dead,
        indexes.droppable_indexes(Lead, keep_columns=("external_id", "email"))
        + indexes.droppable_indexes(StageChange, keep_columns=("lead_id",)),
    )
    _kill(dead)
    assert set(lead_indexes()) == LOOKUP_INDEXES
    small = write(tmp_path, "one.csv", "email\nsolo@acme.com\n")
    job = create_import_job(path=small, file_name="one.csv", kind="leads", fmt="generic")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(indexes, "drop_min_rows", lambda: 1_000)  # this one is small
        run_import(job)
    assert lead_indexes() == before
    dead.refresh_from_db()
    assert dead.dropped_indexes == []


@sqlite_only
def test_an_import_killed_while_building_the_indexes_finishes_them_on_resume(
    tmp_path, drop_always, monkeypatch
):
    path = messy_file(tmp_path)
    before = lead_indexes()
    expected = clean_run(path)
    job = _job(path)
    real = db_indexes.build_first
    built = []

    def build_one_then_die(missing, *, record):
        if built:
            raise Crash
        built.append(missing[0]["name"])
        return real(missing, record=record)

    monkeypatch.setattr(db_indexes, "build_first", build_one_then_die)
    _no_rebuild_on_failure(monkeypatch)
    with pytest.raises(Crash):
        run_import(job, chunk_size=7)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.byte_offset == path.stat().st_size  # every row is in; only indexes are missing
    assert built[0] in {name for _, name in lead_indexes()}
    assert len(job.dropped_indexes) == len(before) - len(LOOKUP_INDEXES) - 1
    _kill(job)
    run_import(job, chunk_size=7)
    assert state() == expected
    assert lead_indexes() == before


@sqlite_only
def test_starting_the_workers_builds_the_indexes_a_dead_import_left_dropped(tmp_path):
    from typer.testing import CliRunner

    from closedloop.cli import app

    before = lead_indexes()
    dead = _job(messy_file(tmp_path))
    indexes.drop_indexes(
        dead, indexes.droppable_indexes(Lead, keep_columns=("external_id", "email"))
    )
    _kill(dead)
    outcome = CliRunner().invoke(app, ["worker", "--batch"])
    assert outcome.exit_code == 0, outcome.output
    assert "Built again the indexes" in outcome.output
    assert lead_indexes() == before
