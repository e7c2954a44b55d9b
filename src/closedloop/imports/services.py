"""Importing a CSV file: create the job, check the mapping, run it in chunks, resume it.

    job = create_import_job(path=..., file_name=..., kind="leads", fmt="hubspot", user=mia)
    run_import(job)              # or enqueue_import(job) from a page

Every row of the file ends in exactly one count: created, updated, skipped (unchanged or
blank) or failed, and every failed row has at least one RowError (line, column, reason).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from closedloop.core.audit import acting_as, record_bulk
from closedloop.core.csvformat import SAMPLE_BYTES, detect_csv_format
from closedloop.core.db import vendor
from closedloop.core.models import AuditSource
from closedloop.imports import indexes
from closedloop.imports.engine import (
    KEYS,
    Format,
    Kind,
    Row,
    RowConverter,
    detect_mapping,
    is_blank,
    validate_mapping,
)
from closedloop.imports.loaders import LOADERS
from closedloop.imports.models import ImportJob, ImportStatus, RowError
from closedloop.imports.reading import HeaderProblem, RecordReader, inspect_file, read_header
from closedloop.imports.seenkeys import SeenKeys

CHUNK_ROWS = 5_000
PREVIEW_ROWS = 5
logger = logging.getLogger(__name__)


class ImportRefused(Exception):
    """The whole file cannot be imported (missing required column, empty file, ...)."""


def create_import_job(
    *,
    path: str | Path,
    file_name: str,
    kind: str,
    fmt: str,
    user=None,
    mapping: dict[str, str] | None = None,
) -> ImportJob:
    """A job for the file at `path`, with its hash, encoding, delimiter, header and detected
    mapping. Every door (page, API, CLI) comes through here, so each gets the same checks.

    Raises ImportRefused when the file is not text, has no header row, or its header is over
    the limits. A UTF-16 or UTF-32 file is read from a UTF-8 copy under the media folder.
    Nothing is written to the CRM yet.
    """
    kind, fmt = Kind(kind), Format(fmt)
    with open(path, "rb") as stream:
        facts = inspect_file(stream)
        stream.seek(0)
        text_format = detect_csv_format(stream.read(SAMPLE_BYTES))
    read_path, encoding, note = Path(path), facts.encoding, facts.note
    if text_format.encoding.startswith(("utf-16", "utf-32")):
        read_path, encoding = _utf8_copy(Path(path), text_format.encoding), "utf-8"
        note = f"The file is {text_format.encoding.upper()}; it was read as such."
    with open(read_path, "rb") as stream:
        try:
            _check_text(stream.read(SAMPLE_BYTES))
            stream.seek(0)
            headers = read_header(stream, encoding, delimiter=text_format.delimiter)
        except (HeaderProblem, ImportRefused) as exc:
            if read_path != Path(path):
                read_path.unlink(missing_ok=True)
            raise ImportRefused(f"{file_name}: {exc}") from None
    if not headers:
        raise ImportRefused(f"{file_name} is empty: it has no header row")
    return ImportJob.objects.create(
        kind=kind,
        format=fmt,
        file_name=file_name[:255],
        file_path=str(read_path.resolve()),
        file_sha256=facts.sha256,
        file_size=read_path.stat().st_size,
        encoding=encoding,
        delimiter=text_format.delimiter,
        note=note,
        headers=headers,
        mapping=mapping or detect_mapping(headers, kind, fmt),
        created_by=user,
    )


# Zip (.xlsx, .docx), old Office (.xls), PDF, PNG, JPEG and GIF files start with these.
_BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")


def is_binary(head: bytes) -> bool:
    """A binary file rather than text: a known signature, or NUL bytes beyond a stray one
    (CSV text has none; a stray one fails only its row)."""
    return head.startswith(_BINARY_MAGIC) or head.count(0) * 1000 > len(head)


def _check_text(head: bytes) -> None:
    if is_binary(head):  # UTF-16 files, which have NULs, were copied to UTF-8 before this
        raise ImportRefused("the file is not text (save it as CSV, UTF-8)")


def _utf8_copy(path: Path, encoding: str) -> Path:
    """A UTF-8 copy of a UTF-16/32 file in the media folder (the import reads byte lines)."""
    import uuid

    from django.conf import settings

    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{uuid.uuid4().hex}.csv"
    with (
        open(path, encoding=encoding, errors="replace", newline="") as source,
        open(copy, "w", encoding="utf-8", newline="") as out,
    ):
        while block := source.read(_SNIFF_BYTES):
            out.write(block.removeprefix("\ufeff"))
    return copy


def visible_import_jobs(user):
    """The jobs a user may see: an admin all of them, anyone else (marketing) their own.

    An import holds the rows of the file and who uploaded it; another user's job is a 404,
    like a missing one."""
    from closedloop.core.models import Role

    jobs = ImportJob.objects.all()
    return jobs if user.role == Role.ADMIN else jobs.filter(created_by=user)


def find_resumable_job(*, path: str | Path, kind: str, fmt: str) -> ImportJob | None:
    """The unfinished job for the same file content, kind and format, if any."""
    with open(path, "rb") as stream:
        facts = inspect_file(stream)
    return (
        ImportJob.objects.filter(
            file_sha256=facts.sha256,
            kind=kind,
            format=fmt,
            status__in=[ImportStatus.INTERRUPTED, ImportStatus.RUNNING, ImportStatus.QUEUED],
        )
        .order_by("-pk")
        .first()
    )


def set_mapping(job: ImportJob, mapping: dict[str, str]) -> list[str]:
    """Store a user-edited mapping; returns the problems (empty when it was stored)."""
    unknown = [h for h in mapping if h not in job.headers]
    problems = [f"column {h!r} is not in the file" for h in unknown]
    problems += validate_mapping(mapping, Kind(job.kind))
    if not problems:
        job.mapping = {h: mapping.get(h, "") for h in job.headers}
        job.save(update_fields=["mapping"])
    return problems


def preview_rows(job: ImportJob, count: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first `count` records after the header, as the file has them."""
    rows: list[list[str]] = []
    with open(job.file_path, "rb") as stream:
        for line, cells in RecordReader(stream, job.encoding, delimiter=job.delimiter):
            if line > 1 and len(rows) < count:
                rows.append(cells)
            if len(rows) >= count:
                break
    return rows


# ---------------------------------------------------------------------------------------------
# Running.


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


STALE_AFTER_SECONDS = 600


def is_abandoned(job: ImportJob) -> bool:
    """True when no live process is running the job: its process on this host is dead, or,
    on another host, it has not written a chunk for STALE_AFTER_SECONDS."""
    host, _, pid = job.worker.rpartition(":")
    if not job.worker or not pid.isdigit():
        return True
    if host != socket.gethostname():
        last = job.heartbeat_at or job.started_at
        return last is None or (timezone.now() - last).total_seconds() > STALE_AFTER_SECONDS
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_job(job: ImportJob) -> None:
    """Mark the job running in this process; refuse one another live process is running.

    A job left RUNNING by a process that died (SIGKILL, power cut) is taken over.
    """
    job.refresh_from_db()
    if job.status == ImportStatus.DONE:
        raise ImportRefused(f"import {job.pk} is already done")
    if job.status == ImportStatus.RUNNING and not is_abandoned(job):
        raise ImportRefused(f"import {job.pk} is running in process {job.worker}")
    problems = validate_mapping(job.mapping, Kind(job.kind))
    if problems:
        # Refused before any write: the file stays untouched and the job says why.
        _finish(job, ImportStatus.FAILED, "; ".join(problems))
        raise ImportRefused("; ".join(problems))
    claimed = ImportJob.objects.filter(pk=job.pk, status=job.status, worker=job.worker).update(
        status=ImportStatus.RUNNING,
        worker=_worker_name(),
        heartbeat_at=timezone.now(),
        started_at=job.started_at or timezone.now(),
        message="",
    )
    if claimed != 1:
        raise ImportRefused(f"import {job.pk} was claimed by another process")
    job.refresh_from_db()


def run_import(
    job: ImportJob,
    *,
    chunk_size: int = CHUNK_ROWS,
    on_chunk: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Import (or resume importing) the job's file; returns the finished job.

    Rows are committed `chunk_size` at a time together with the job's cursor and counts;
    `on_chunk(job)` is called after each commit (progress bars). Any exception leaves the job
    INTERRUPTED with everything up to the last commit kept, so run_import can resume it.
    """
    claim_job(job)
    with acting_as(job.created_by, AuditSource.IMPORT):
        try:
            # Indexes a killed import left dropped come back before anything else runs.
            indexes.rebuild_abandoned(running=job)
            _run(job, chunk_size=chunk_size, on_chunk=on_chunk)
        except BaseException as exc:
            _finish(job, ImportStatus.INTERRUPTED, f"{type(exc).__name__}: {exc}"[:2000])
            _rebuild_after_failure(job)
            raise
    _finish(job, ImportStatus.DONE, "")
    return job


def _rebuild_after_failure(job: ImportJob) -> None:
    """A stopped import does not leave the table without its indexes until it is resumed
    (that may be never). If this fails too, the job's record keeps them for the next import."""
    try:
        indexes.rebuild_indexes(job)
    except Exception:
        logger.exception("import %s: could not build the dropped indexes again", job.pk)


def _finish(job: ImportJob, status: str, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, message=message, worker="", finished_at=timezone.now()
    )
    job.refresh_from_db()


def _run(job: ImportJob, *, chunk_size: int, on_chunk) -> None:
    kind = Kind(job.kind)
    with open(job.file_path, "rb") as stream:
        header_reader = RecordReader(stream, job.encoding, delimiter=job.delimiter)
        header_line, headers = next(iter(header_reader))
        if [h.strip() for h in headers] != job.headers:
            raise ImportRefused("the file's header changed since the import was created")
        header_end = header_reader.offset
        converter = RowConverter(job.headers, job.mapping, kind)
        start, line = (job.byte_offset, job.line) if job.byte_offset else (header_end, header_line)
        seen = SeenKeys()
        # Nothing left to check against them when every record is in (a job killed while it
        # built its indexes again): re-reading a million rows would only delay the indexes.
        if header_end < start < job.file_size:
            seen = _seen_keys(job, stream, converter, kind, upto=start)
        loader = LOADERS[kind](job)
        reader = RecordReader(
            stream, job.encoding, start=start, start_line=line + 1, delimiter=job.delimiter
        )
        with _bulk_loading() as use_server_cache:
            # Decided once, after the first chunk; a resumed job keeps them dropped.
            decided = bool(job.dropped_indexes)
            if job.dropped_indexes:
                use_server_cache()
            for chunk in _chunks(reader, chunk_size):
                created = job.created
                _commit_chunk(job, loader, converter, seen, chunk, reader)
                if not decided:
                    decided = True
                    new_rows = _new_rows_ahead(
                        job,
                        rows=len(chunk),
                        created=job.created - created,
                        read=reader.offset - start,
                        offset=reader.offset,
                    )
                    _drop_indexes_for_a_large_load(job, loader, new_rows=new_rows)
                    if job.dropped_indexes:
                        use_server_cache()
                if on_chunk:
                    on_chunk(job)
            # Inside the loop's page cache and safety settings: the sorts reuse its pages.
            indexes.rebuild_indexes(job)


def _new_rows_ahead(job: ImportJob, *, rows: int, created: int, read: int, offset: int) -> int:
    """How many rows the rest of the file will likely create, judged by the first chunk: the
    records left (at its bytes per record) times the share of its rows that were new. A file
    imported again creates nothing, and is not worth sorting the table's indexes again."""
    if not rows or read <= 0:
        return 0
    return int((job.file_size - offset) / (read / rows) * (created / rows))


def _drop_indexes_for_a_large_load(job: ImportJob, loader, *, new_rows: int) -> None:
    """Drop the secondary indexes of the tables the loader fills when the rows still to
    create are many against them (closedloop.imports.indexes; SQLite only). They are built
    again after the last chunk."""
    doomed = []
    for model, keep in loader.bulk_tables:
        if indexes.worth_dropping(rows_to_import=new_rows, rows_in_table=model.objects.count()):
            doomed += indexes.droppable_indexes(model, keep_columns=keep)
    indexes.drop_indexes(job, doomed)


# A million leads make a ~750 MB SQLite file whose dozen random-order indexes do not fit the
# server's 64 MB page cache: every chunk then re-reads and re-writes most index pages. With
# those indexes dropped (a large import) the server's cache holds what the load touches:
# measured at 1M rows, the same CPU time with 64 MB as with 128 MB, and 68 MB less memory.
IMPORT_CACHE_KIB = 128 * 1024
# Each chunk rewrites index pages an earlier chunk wrote: copied back to the database file
# (checkpointed) every 4 MB of write-ahead log, as by default, most are copied many times.
IMPORT_CHECKPOINT_PAGES = 32_768


@contextmanager
def _bulk_loading() -> Iterator[Callable[[], None]]:
    """On SQLite, for the import's connection: a larger page cache, checkpoints every
    IMPORT_CHECKPOINT_PAGES, and synchronous=NORMAL (1). Yields a function that gives the
    connection the server's page cache back (once the scattered indexes are dropped).

    NORMAL in WAL mode still survives a killed process with every committed chunk; a power
    cut may lose the last few commits, and since each chunk commits with its cursor the job
    then resumes from an earlier, consistent cursor. The server's settings come back after.
    Inside a caller's transaction the safety level stays (SQLite refuses to change it there).
    """
    with vendor.sqlite_pragmas(
        cache_size=-IMPORT_CACHE_KIB, wal_autocheckpoint=IMPORT_CHECKPOINT_PAGES, synchronous=1
    ) as pragmas:
        yield lambda: pragmas.restore("cache_size")


def _chunks(reader: RecordReader, size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for record in reader:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _key_hashes(values: dict, kind: Kind) -> list[tuple[str, int]]:
    """(field, fingerprint) of each upsert key a row has: external id, email or domain."""
    return [
        (name, SeenKeys.fingerprint(name, values[name])) for name in KEYS[kind] if values.get(name)
    ]


def _seen_keys(job, stream, converter: RowConverter, kind: Kind, *, upto: int) -> SeenKeys:
    """Rebuild, on resume, the keys of rows already imported (for duplicate detection)."""
    failed = set(RowError.objects.filter(job=job).values_list("line", flat=True))
    seen = SeenKeys()
    reader = RecordReader(stream, job.encoding, delimiter=job.delimiter)
    for line, cells in reader:
        if line > 1 and line not in failed and not is_blank(cells):
            for _, key in _key_hashes(converter.convert(line, cells).values, kind):
                seen.add(key, line)
        if len(seen.pending) >= CHUNK_ROWS:
            seen.flush()
        if reader.offset >= upto:
            break
    seen.flush()
    return seen


def _commit_chunk(job, loader, converter, seen, chunk, reader) -> None:
    rows: list[Row] = []
    failed: list[Row] = []
    blank = 0
    for line, cells in chunk:
        if is_blank(cells):
            blank += 1
            continue
        row = converter.convert(line, cells)
        (rows if row.ok else failed).append(row)
    kind = Kind(job.kind)
    with transaction.atomic():
        loader.resolve(rows)
        good = _drop_failed(rows, failed)
        good = _drop_duplicates(good, failed, seen, kind, loader)
        outcome = loader.write(good)
        RowError.objects.bulk_create(_errors(job, failed))
        job.created += outcome.created
        job.updated += outcome.updated
        job.skipped += outcome.unchanged + blank
        job.failed += len(failed)
        job.byte_offset, job.line = reader.offset, reader.lines_read
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "created",
                "updated",
                "skipped",
                "failed",
                "byte_offset",
                "line",
                "heartbeat_at",
            ]
        )
        if outcome.created or outcome.updated:
            record_bulk(
                loader.model,
                count=outcome.created + outcome.updated,
                description=(
                    f"import #{job.pk} {job.file_name} lines {chunk[0][0]}–"
                    f"{reader.lines_read}: {outcome.created} created, "
                    f"{outcome.updated} updated"
                ),
            )
    seen.flush()


def _drop_failed(rows: list[Row], failed: list[Row]) -> list[Row]:
    good = []
    for row in rows:
        (good if row.ok else failed).append(row)
    return good


def _drop_duplicates(rows, failed, seen: SeenKeys, kind: Kind, loader) -> list[Row]:
    """Fail rows whose email / external id / domain an earlier row of the file already had."""
    keys = [_key_hashes(row.values, kind) for row in rows]
    earlier = seen.lookup([key for row_keys in keys for _, key in row_keys])
    good = []
    for row, row_keys in zip(rows, keys, strict=True):
        clash = next(
            (
                (name, earlier.get(key) or seen.pending.get(key))
                for name, key in row_keys
                if key in earlier or key in seen.pending
            ),
            None,
        )
        if clash is not None:
            name, first = clash
            row.fail(
                loader.column_of(name),
                str(row.values[name]),
                f"duplicate {name.replace('_', ' ')} within the file (first on line {first})",
            )
            failed.append(row)
            continue
        for _, key in row_keys:
            seen.add(key, row.line)
        good.append(row)
    return good


def _errors(job, failed: Iterable[Row]) -> list[RowError]:
    return [
        RowError(
            job=job, line=row.line, column=column[:255], value=value[:300], reason=reason[:300]
        )
        for row in failed
        for column, value, reason in row.errors
    ]


# ---------------------------------------------------------------------------------------------
# Reporting.

ERROR_CSV_HEADER = ["line", "column", "value", "reason"]


def error_rows(job: ImportJob) -> Iterator[list[str]]:
    """The error CSV of a job, header first, ordered by line."""
    yield ERROR_CSV_HEADER
    for line, column, value, reason in (
        RowError.objects.filter(job=job)
        .order_by("line", "id")
        .values_list("line", "column", "value", "reason")
        .iterator(chunk_size=2000)
    ):
        yield [str(line), column, value, reason]


def summary(job: ImportJob) -> str:
    return (
        f"{job.rows_done} rows: {job.created} created, {job.updated} updated, "
        f"{job.skipped} skipped, {job.failed} failed"
    )


# ---------------------------------------------------------------------------------------------
# Uploads and background runs.

MAX_UPLOAD_BYTES = 512 * 2**20
_SNIFF_BYTES = 64 * 1024


def upload_limit() -> int:
    """Bytes an upload may have: settings.IMPORT_MAX_UPLOAD_BYTES, else 512 MB."""
    from django.conf import settings

    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES))


def check_upload(name: str, size: int, head: bytes, *, limit: int | None = None) -> list[str]:
    """Problems with an uploaded file: not .csv, empty, too big, or not text (binary bytes)."""
    limit = upload_limit() if limit is None else limit
    problems = []
    if not name.lower().endswith(".csv"):
        problems.append(f"{name!r} is not a .csv file")
    if size == 0:
        problems.append("the file is empty")
    if size > limit:
        problems.append(f"the file is {size / 2**20:.0f} MB; the limit is {limit / 2**20:.0f} MB")
    utf16 = detect_csv_format(head[:_SNIFF_BYTES]).encoding.startswith(("utf-16", "utf-32"))
    if not utf16 and is_binary(head[:_SNIFF_BYTES]):  # UTF-16 text is read as such
        problems.append("the file is not text (save it as CSV, UTF-8)")
    return problems


def save_upload(uploaded, *, kind: str, fmt: str, user) -> ImportJob:
    """Store an uploaded CSV under the media folder and create its job (raises ImportRefused)."""
    import uuid

    from django.conf import settings

    head = uploaded.read(_SNIFF_BYTES)
    uploaded.seek(0)
    problems = check_upload(uploaded.name, uploaded.size, head)
    if problems:
        raise ImportRefused("; ".join(problems))
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    with open(path, "wb") as out:
        for block in uploaded.chunks():
            out.write(block)
    try:
        job = create_import_job(
            path=path, file_name=Path(uploaded.name).name, kind=kind, fmt=fmt, user=user
        )
    except BaseException:  # refused or not, a file without a job is never left behind
        path.unlink(missing_ok=True)
        raise
    if Path(job.file_path) != path.resolve():  # read from a UTF-8 copy
        path.unlink(missing_ok=True)
    return job


def enqueue_import(job: ImportJob) -> bool:
    """Queue a pending or interrupted job as a background task; False if it cannot be queued."""
    from closedloop.imports.tasks import run_import_job

    if job.status == ImportStatus.RUNNING and not is_abandoned(job):
        return False
    queued = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportStatus.PENDING, ImportStatus.INTERRUPTED, ImportStatus.RUNNING]
    ).update(status=ImportStatus.QUEUED, worker="")
    if not queued:
        return False
    run_import_job.enqueue(job.pk)
    job.refresh_from_db()
    return True
