"""Crash safety: an import stopped at any point resumes to the state a clean run reaches."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from closedloop.crm.models import Lead, StageChange
from closedloop.imports import loaders
from closedloop.imports.models import ImportJob, ImportStatus, RowError
from closedloop.imports.services import create_import_job, find_resumable_job, run_import
from tests.factories import make_lead
from tests.imports.helpers import accounted, write

# Rows no reader should choke on, each with the problem it must be reported with.
HOSTILE_ROWS = {
    "unclosed quote": '{n},"p{n}@acme.com,Name{n},lead,2024-01-01',
    "quote closed mid-cell": '{n},p{n}@acme.com,"Name" {n},lead,2024-01-01',
    "oversize cell": '{n},p{n}@acme.com,"' + "x" * 150_000 + '",lead,2024-01-01',
    "NUL byte": "{n},p{n}@acme.com,Nu\x00l,lead,2024-01-01",
}


def messy_file(tmp_path: Path, rows: int = 60, seed: int = 3, *, hostile: bool = False) -> Path:
    """Leads with bad emails, duplicates, bad dates, blank and multi-line rows, all mixed;
    `hostile` adds broken rows (HOSTILE_ROWS) at random places."""
    rng = random.Random(seed)
    lines = ["Record ID,Email,First Name,Lifecycle Stage,Create Date"]
    broken = list(HOSTILE_ROWS.values()) if hostile else []
    for n in range(1, rows + 1):
        roll = rng.random()
        if broken and roll < 0.06:  # each kind in turn
            broken.append(broken.pop(0))
            lines.append(broken[-1].replace("{n}", str(n)))
            continue
        email = f"p{n}@acme.com"
        if roll < 0.08:
            email = f"p{n}@broken"
        elif roll < 0.16 and n > 3:
            email = f"p{rng.randrange(1, n)}@acme.com"
        name = f'"Name {n}\nsecond line"' if roll > 0.92 else f"Name{n}"
        date = "2024-02-30" if 0.16 <= roll < 0.2 else f"2024-01-{n % 28 + 1:02d}"
        stage = rng.choice(["lead", "marketingqualifiedlead", "customer", "subscriber"])
        lines.append("" if 0.2 <= roll < 0.23 else f"{n},{email},{name},{stage},{date}")
    return write(tmp_path, "messy.csv", "\n".join(lines) + "\n")


def state() -> dict:
    """What an import leaves behind, without ids or clock times."""
    job = ImportJob.objects.get()
    return {
        "leads": sorted(
            Lead.objects.values_list(
                "external_id", "email", "first_name", "lifecycle_stage", "created_at"
            )
        ),
        "stage_changes": sorted(
            StageChange.objects.values_list("lead__external_id", "from_stage", "to_stage", "reason")
        ),
        "errors": sorted(RowError.objects.values_list("line", "column", "reason")),
        "counts": (job.created, job.updated, job.skipped, job.failed, job.status),
    }


def clean_run(path: Path) -> dict:
    run_import(
        create_import_job(path=path, file_name="messy.csv", kind="leads", fmt="hubspot"),
        chunk_size=7,
    )
    result = state()
    Lead.objects.all().delete()
    ImportJob.objects.all().delete()
    return result


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_after", [0, 1, 3, 7])
def test_an_import_failing_after_chunk_k_resumes_to_the_clean_result(tmp_path, crash_after):
    path = messy_file(tmp_path)
    expected = clean_run(path)
    job = create_import_job(path=path, file_name="messy.csv", kind="leads", fmt="hubspot")
    done = []

    def crash(job):
        done.append(job.line)
        if len(done) > crash_after:
            raise Crash

    with pytest.raises(Crash):
        run_import(job, chunk_size=7, on_chunk=crash)
    job.refresh_from_db()
    assert job.status == ImportStatus.INTERRUPTED and job.line == done[-1]
    assert find_resumable_job(path=path, kind="leads", fmt="hubspot") == job
    run_import(job, chunk_size=7)
    assert state() == expected
    assert accounted(job) == 60


def test_an_import_of_a_file_with_broken_rows_stopped_20_times_resumes_to_the_clean_result(
    tmp_path,
):
    path = messy_file(tmp_path, rows=120, seed=5, hostile=True)
    expected = clean_run(path)
    reasons = {reason.split(" (")[0].split(";")[0] for _, _, reason in expected["errors"]}
    assert reasons >= {
        "a quote in this row is closed in the middle of a cell",
        "a cell is over 128 KB",
        "the row holds a NUL byte",
    }
    job = create_import_job(path=path, file_name="messy.csv", kind="leads", fmt="hubspot")
    rng = random.Random(2026)
    stops = 0
    while stops < 20:
        budget = rng.randrange(0, 2)  # chunks to commit before this stop

        def crash(job, left=[budget]):  # noqa: B006 - the counter of this run
            left[0] -= 1
            if left[0] < 0:
                raise Crash

        try:
            run_import(job, chunk_size=1, on_chunk=crash)
        except Crash:
            stops += 1
        else:
            break
    assert stops == 20, "the import finished before it was stopped 20 times"
    run_import(job, chunk_size=1)
    assert state() == expected


@pytest.mark.parametrize("fail_on_chunk", [1, 2, 5])
def test_a_chunk_that_fails_midway_is_rolled_back_whole_and_redone(
    tmp_path, monkeypatch, fail_on_chunk
):
    path = messy_file(tmp_path)
    expected = clean_run(path)
    calls = []
    real_write = loaders.LeadLoader.write

    def flaky_write(self, rows):
        calls.append(1)
        outcome = real_write(self, rows)  # the rows are written, then the chunk fails
        if len(calls) == fail_on_chunk:
            raise Crash
        return outcome

    monkeypatch.setattr(loaders.LeadLoader, "write", flaky_write)
    job = create_import_job(path=path, file_name="messy.csv", kind="leads", fmt="hubspot")
    with pytest.raises(Crash):
        run_import(job, chunk_size=7)
    monkeypatch.setattr(loaders.LeadLoader, "write", real_write)
    run_import(job, chunk_size=7)
    assert state() == expected


def test_a_resumed_import_still_finds_duplicates_of_rows_before_the_crash(tmp_path):
    path = write(tmp_path, "d.csv", "email\na@acme.com\nb@acme.com\nc@acme.com\nA@acme.com\n")
    job = create_import_job(path=path, file_name="d.csv", kind="leads", fmt="generic")

    def crash(job):
        raise Crash

    with pytest.raises(Crash):
        run_import(job, chunk_size=2, on_chunk=crash)
    run_import(job, chunk_size=2)
    assert [(e.line, e.reason) for e in job.errors.all()] == [
        (5, "duplicate email within the file (first on line 2)")
    ]
    assert (job.created, job.failed, Lead.objects.count()) == (3, 1, 3)


def test_a_finished_import_is_not_run_again(tmp_path):
    job = run_import(
        create_import_job(
            path=write(tmp_path, "a.csv", "email\na@acme.com\n"),
            file_name="a.csv",
            kind="leads",
            fmt="generic",
        )
    )
    make_lead(email="b@acme.com")
    from closedloop.imports.services import ImportRefused

    with pytest.raises(ImportRefused, match="already done"):
        run_import(job)


# ---------------------------------------------------------------------------------------------
# The real thing: `closedloop import` in a child process, killed with SIGKILL mid-transaction.


def _env(data_dir: Path, *, drop_indexes: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CLOSEDLOOP_DATABASE_URL"}
    env.update(
        # 1: every import drops the lead table's secondary indexes; a billion: none does.
        CLOSEDLOOP_IMPORT_INDEX_DROP_ROWS="1" if drop_indexes else "1000000000",
        CLOSEDLOOP_DATA_DIR=str(data_dir),
        CLOSEDLOOP_DEBUG="1",
        CLOSEDLOOP_TASK_BACKEND="immediate",
        DJANGO_SETTINGS_MODULE="closedloop.settings",
    )
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "closedloop.cli", *args]


def _import_cmd(path: Path) -> list[str]:
    return _cli(
        "import",
        str(path),
        "--kind",
        "leads",
        "--format",
        "hubspot",
        "--chunk-size",
        "40",
        "--no-progress",
        "--errors",
        str(path.with_suffix(".errors.csv")),
    )


def _db_state(db_file: Path) -> dict:
    with sqlite3.connect(db_file) as db:
        return {
            "leads": db.execute(
                "SELECT external_id, email, first_name, lifecycle_stage, created_at FROM crm_lead"
                " ORDER BY external_id, email"
            ).fetchall(),
            "stage_changes": db.execute(
                "SELECT l.external_id, s.from_stage, s.to_stage FROM crm_stagechange s JOIN "
                "crm_lead l ON l.id = s.lead_id ORDER BY 1, 2, 3"
            ).fetchall(),
            "errors": db.execute(
                'SELECT line, "column", reason FROM imports_rowerror ORDER BY 1, 2'
            ).fetchall(),
            "jobs": db.execute(
                "SELECT created, updated, skipped, failed, status FROM imports_importjob"
            ).fetchall(),
            "indexes": db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'crm_lead'"
                " ORDER BY name"
            ).fetchall(),
        }


def _line(db_file: Path) -> int:
    try:
        with sqlite3.connect(db_file, timeout=5) as db:
            row = db.execute("SELECT line FROM imports_importjob").fetchone()
    except sqlite3.OperationalError:
        return 0
    return row[0] if row else 0


KILLS = 10  # per run, each in a later chunk of 40 rows than the one before


def _kill_at(target: int, path: Path, env: dict, db_file: Path, repeated: dict) -> bool:
    """Run (or resume) the import until its job has passed line `target`, SIGKILL it (in the
    next chunk's transaction), and check that it left no lead twice beyond the clean run's
    `repeated`. True if it was killed, not finished."""
    child = subprocess.Popen(
        _import_cmd(path),
        env=env,
        cwd=path.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while child.poll() is None and _line(db_file) < target and time.monotonic() < deadline:
        time.sleep(0.01)
    killed = child.poll() is None
    if killed:
        os.kill(child.pid, signal.SIGKILL)
    child.wait()
    more = {k: n for k, n in _repeated_leads(db_file).items() if n > repeated.get(k, 1)}
    assert more == {}, f"duplicates after the kill at line {target}"
    return killed


def _repeated_leads(db_file: Path) -> dict[str, int]:
    """Emails held by more than one lead, and how many."""
    with sqlite3.connect(db_file, timeout=30) as db:
        return dict(
            db.execute(
                "SELECT lower(email), count(*) FROM crm_lead WHERE email != '' "
                "GROUP BY lower(email) HAVING count(*) > 1"
            ).fetchall()
        )


@pytest.mark.parametrize("drop_indexes", [False, True], ids=["indexes-kept", "indexes-dropped"])
def test_an_import_killed_with_sigkill_at_random_points_resumes_without_duplicates(
    tmp_path, drop_indexes
):
    path = messy_file(tmp_path, rows=1000, seed=11, hostile=True)
    clean_dir, crash_dir = tmp_path / "clean", tmp_path / "crash"
    subprocess.run(_cli("migrate"), env=_env(clean_dir), check=True, capture_output=True)
    shutil.copytree(clean_dir, crash_dir)
    subprocess.run(
        _import_cmd(path), env=_env(clean_dir), check=True, capture_output=True, cwd=tmp_path
    )
    expected = _db_state(clean_dir / "closedloop.sqlite3")
    assert expected["jobs"][0][:4] != (0, 0, 0, 0)
    env = _env(crash_dir, drop_indexes=drop_indexes)

    rng = random.Random(2026)
    db_file = crash_dir / "closedloop.sqlite3"
    chunks = sorted(rng.sample(range(1, 24), KILLS))  # 1,000 rows: 25 chunks of 40
    targets = [40 * chunk + rng.randrange(1, 40) for chunk in chunks]
    repeated = _repeated_leads(clean_dir / "closedloop.sqlite3")
    kills = [_kill_at(target, path, env, db_file, repeated) for target in targets]
    assert all(kills), f"the import finished before it could be killed: {kills}"
    killed = _db_state(db_file)
    assert killed["jobs"][0][4] == "running"  # as a killed process leaves it
    if drop_indexes:  # killed mid-load, the secondary indexes are still missing
        assert len(killed["indexes"]) < len(expected["indexes"])
    finish = subprocess.run(
        _import_cmd(path),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Resuming import" in finish.stdout
    assert _db_state(db_file) == expected
