"""Careless and hostile files: every row is accounted for. A broken or oversize row becomes an
error row with its line and the import goes on; the header is checked when the job is made;
the delimiter and a byte-order mark are detected, from every door (page, CLI)."""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.crm.models import Lead
from closedloop.imports.models import ImportStatus
from closedloop.imports.reading import BrokenRecord, RecordReader, record_end
from closedloop.imports.services import ImportRefused, create_import_job, run_import
from tests.imports.helpers import accounted, errors_of, import_file, write


def emails() -> list[str]:
    return sorted(Lead.objects.values_list("email", flat=True))


def test_an_unclosed_quote_fails_its_row_and_the_rows_after_it_still_import(tmp_path):
    text = 'Email,First Name\na@acme.com,Ann\nb@acme.com,"Bob\nc@acme.com,Cy\nd@acme.com,Di\n'
    job = import_file(write(tmp_path, "q.csv", text))

    assert job.status == ImportStatus.DONE
    assert emails() == ["a@acme.com", "c@acme.com", "d@acme.com"]
    [(line, column, reason)] = errors_of(job)
    assert line == 3 and "never closed" in reason
    assert (job.created, job.failed, accounted(job)) == (3, 1, 4)


def test_a_quote_closed_mid_cell_fails_its_row_without_swallowing_the_next_ones(tmp_path):
    text = 'Email,Note\na@acme.com,"open\nb@acme.com,x\nc@acme.com,"closed" late\nd@acme.com,y\n'
    job = import_file(write(tmp_path, "q.csv", text))

    assert emails() == ["b@acme.com", "d@acme.com"]
    assert [line for line, _, _ in errors_of(job)] == [2, 4]
    assert accounted(job) == 4


@pytest.mark.parametrize("size", [200_000, 3_000_000], ids=["over-cell-limit", "over-1-MB"])
def test_an_oversize_cell_is_an_error_row_and_the_import_goes_on(tmp_path, size):
    big = "x" * size
    text = (
        f'Email,Note\na@acme.com,"{big}\n{big}"\nb@acme.com,fine\n{"z" * size},c\ne@acme.com,ok\n'
    )
    job = import_file(write(tmp_path, "big.csv", text), chunk_size=1)

    assert job.status == ImportStatus.DONE
    assert emails() == ["b@acme.com", "e@acme.com"]
    assert [line for line, _, _ in errors_of(job)] == [2, 5]
    assert accounted(job) == 4


def test_an_import_stopped_after_an_oversize_row_resumes_to_the_clean_result(tmp_path):
    big = "x" * 2_000_000
    path = write(tmp_path, "big.csv", f'Email\na@acme.com\n"{big}"\nb@acme.com\nc@acme.com\n')
    job = create_import_job(path=path, file_name="big.csv", kind="leads", fmt="generic")

    def crash(job):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run_import(job, chunk_size=2, on_chunk=crash)
    run_import(job, chunk_size=2)

    assert emails() == ["a@acme.com", "b@acme.com", "c@acme.com"]
    assert [line for line, _, _ in errors_of(job)] == [3]
    assert accounted(job) == 4


def test_a_nul_byte_deep_in_the_file_fails_only_its_row(tmp_path):
    rows = "".join(f"p{n}@acme.com,P{n}\n" for n in range(5000))  # past the 64 KB text check
    text = "Email,Name\n" + rows + "q@acme.com,Nu\x00l\nr@acme.com,R\n"
    job = import_file(write(tmp_path, "nul.csv", text))

    assert [(line, reason) for line, _, reason in errors_of(job)] == [
        (5002, "the row holds a NUL byte")
    ]
    assert job.created == 5001
    assert not any("\x00" in name for name in Lead.objects.values_list("first_name", flat=True))


def test_a_semicolon_file_is_read_with_semicolons(tmp_path):
    job = import_file(write(tmp_path, "s.csv", "Email;First Name\na@acme.com;Ann\n"))

    assert job.delimiter == ";"
    assert list(Lead.objects.values_list("email", "first_name")) == [("a@acme.com", "Ann")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_utf16_file_with_a_byte_order_mark_is_read_as_text(tmp_path, encoding):
    text = "Email\tFirst Name\nrené@acme.com\tRené\n"
    if encoding == "utf-16-be":
        text = "\ufeff" + text
    job = import_file(write(tmp_path, "u.csv", text, encoding=encoding))

    assert list(Lead.objects.values_list("email", "first_name")) == [("rené@acme.com", "René")]
    assert job.delimiter == "\t"
    assert "UTF-" in job.note


def test_the_cli_reads_utf16_and_never_saves_nul_bytes(tmp_path, mia):
    path = write(tmp_path, "u.csv", "Email,First Name\nann@acme.com,Ann\n", encoding="utf-16")

    result = CliRunner().invoke(
        app, ["import", str(path), "--kind", "leads", "--format", "generic", "--no-progress"]
    )

    assert result.exit_code == 0, result.output
    assert list(Lead.objects.values_list("email", "first_name")) == [("ann@acme.com", "Ann")]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"Email,Name\x00\na@acme.com,Ann\n", "not text"),
        (b"Email," + b"c," * 5000 + b"\n", "5002 columns; the limit is 2000"),
        (b"Email," + b"x," * 70_000 + b"\n", "the limit is 128 KB"),
        (b"Email," + b"x" * 20_000_000 + b"\n", "the header row cannot be read"),
    ],
    ids=["binary", "columns", "header bytes", "20 MB header"],
)
def test_the_cli_applies_the_same_file_checks_as_the_web(tmp_path, content, problem):
    path = write(tmp_path, "h.csv", content)

    result = CliRunner().invoke(
        app, ["import", str(path), "--kind", "leads", "--format", "generic", "--no-progress"]
    )

    assert result.exit_code != 0
    assert problem in " ".join(result.output.replace("│", " ").split())
    with pytest.raises(ImportRefused, match=problem.split(";")[0]):
        create_import_job(path=path, file_name="h.csv", kind="leads", fmt="generic")


def test_records_resume_exactly_after_a_broken_record():
    data = b'a,b\n1,"x\n2,y\n3,z\n'
    reader = RecordReader(io.BytesIO(data), "utf-8-sig")
    seen = [(line, cells, reader.offset) for line, cells in reader]

    assert [(line, offset) for line, _, offset in seen] == [(1, 4), (2, 9), (3, 13), (4, 17)]
    assert isinstance(seen[1][1], BrokenRecord)
    assert [cells for _, cells, _ in seen[2:]] == [["2", "y"], ["3", "z"]]
    resumed = RecordReader(io.BytesIO(data), "utf-8-sig", start=9, start_line=3)
    assert list(resumed) == [(3, ["2", "y"]), (4, ["3", "z"])]


@pytest.mark.parametrize(
    ("data", "end"),
    [
        (b'a,"b\nc",d\nnext\n', (10, 2)),
        (b'a,"b""\n""c"\nnext\n', (12, 2)),
        (b'a,b"c\nnext\n', (6, 1)),
        (b'a,"b\nc\n', None),
        (b'a,"b"c\nnext\n', None),
        (b"a,b", (3, 1)),
    ],
)
def test_the_end_of_a_record_is_found_without_holding_it(data, end):
    assert record_end(io.BytesIO(data), b",") == end
