"""A large SQLite import drops the target table's secondary indexes and builds them after.

A million new leads into a table with a dozen secondary indexes cost a random B-tree insert
per index per row, and once the table outgrows the page cache most of those inserts read and
write pages of the file: that was most of a million-row import. Building an index after the
load is one sort. The indexes the import reads while it runs (those on its upsert keys) and
unique ones stay.

Crash safety: SQLite's DDL is transactional. The DROPs commit in one transaction with their
definitions recorded on the job (`ImportJob.dropped_indexes`), and each CREATE INDEX commits
with its record removed, so at any point the job's record names exactly the indexes that are
missing. Whoever runs next builds them: the job itself when it resumes or finishes, and any
other import or a starting worker (`rebuild_abandoned`), for a job whose process died.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from closedloop.imports.models import ImportJob, ImportStatus

# Below this many rows to import, sorting the whole table again costs more than it saves.
DROP_MIN_ROWS = 50_000


def drop_min_rows() -> int:
    return int(getattr(settings, "IMPORT_INDEX_DROP_ROWS", DROP_MIN_ROWS))


def worth_dropping(*, rows_to_import: int, rows_in_table: int) -> bool:
    """True when the import adds enough rows that a sort after it beats keeping the indexes.

    Building an index is one pass over the whole table; keeping it is a random insert per new
    row. Measured here, the sort wins as soon as the new rows are a tenth of the table.
    """
    return rows_to_import >= max(drop_min_rows(), rows_in_table // 10)


def droppable_indexes(table: str, *, keep_columns: tuple[str, ...]) -> list[dict]:
    """The table's secondary indexes an import may drop: not unique, and not on a column of
    `keep_columns` (the import looks rows up by those). SQLite only; [] elsewhere."""
    if connection.vendor != "sqlite":
        return []
    quoted = tuple(connection.ops.quote_name(name) for name in keep_columns)
    with connection.cursor() as cursor:
        # Indexes backing a constraint (sqlite_autoindex_*) have no SQL and cannot be dropped.
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL ORDER BY name",
            [table],
        )
        rows = cursor.fetchall()
    return [
        {"table": table, "name": name, "sql": sql}
        for name, sql in rows
        if not sql.upper().startswith("CREATE UNIQUE") and not any(q in sql for q in quoted)
    ]


def drop_indexes(job: ImportJob, indexes: list[dict]) -> None:
    """Drop `indexes` and record them on the job, in one transaction."""
    if not indexes:
        return
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for index in indexes:
            cursor.execute(f"DROP INDEX {quote(index['name'])}")
        job.dropped_indexes = [*job.dropped_indexes, *indexes]
        ImportJob.objects.filter(pk=job.pk).update(dropped_indexes=job.dropped_indexes)


def rebuild_indexes(job: ImportJob) -> int:
    """Build again the indexes the job dropped, each in a transaction with its record; returns
    how many were built. Safe to run twice or in two processes (IF NOT EXISTS)."""
    built = 0
    while job.dropped_indexes:
        _build_first(job)
        built += 1
    return built


def _build_first(job: ImportJob) -> None:
    index, rest = job.dropped_indexes[0], job.dropped_indexes[1:]
    sql = index["sql"].replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
        ImportJob.objects.filter(pk=job.pk).update(dropped_indexes=rest)
    job.dropped_indexes = rest


def rebuild_abandoned(*, running: ImportJob | None = None) -> int:
    """Build the indexes of every job but `running` that dropped some and is not running in a
    live process (it died, or was stopped before it could build them); returns how many."""
    from closedloop.imports.services import is_abandoned

    built = 0
    for job in ImportJob.objects.exclude(dropped_indexes=[]).order_by("pk"):
        if running is not None and job.pk == running.pk:
            continue
        if job.status == ImportStatus.RUNNING and not is_abandoned(job):
            continue
        built += rebuild_indexes(job)
    return built
