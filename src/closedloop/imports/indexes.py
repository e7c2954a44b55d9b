"""When a large SQLite import drops the target tables' secondary indexes, and who builds them
again (the mechanism, crash-safe, is `closedloop.core.db.indexes`).

A million new leads into a table with a dozen secondary indexes cost a random B-tree insert
per index per row: that was most of a million-row import. The indexes the import reads while
it runs (those on its upsert keys) and unique ones stay.

The job's `dropped_indexes` is the record: the DROPs commit with it, and each CREATE INDEX
commits with it shortened. Whoever runs next builds what it names: the job itself when it
resumes or finishes, and any other import or a starting worker (`rebuild_abandoned`), for a
job whose process died.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from closedloop.core.db import indexes as db_indexes
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


def droppable_indexes(
    model: type[models.Model], *, keep_columns: tuple[str, ...]
) -> list[db_indexes.Index]:
    """The model table's indexes an import may drop: not unique, and not on a column of
    `keep_columns` (the import looks rows up by those). SQLite only; [] elsewhere."""
    return db_indexes.droppable_for_load(model, keep_columns=keep_columns)


def _recorder(job: ImportJob) -> db_indexes.Record:
    def record(missing: list[db_indexes.Index]) -> None:
        ImportJob.objects.filter(pk=job.pk).update(dropped_indexes=missing)
        job.dropped_indexes = missing

    return record


def drop_indexes(job: ImportJob, indexes: list[db_indexes.Index]) -> None:
    """Drop `indexes` and record them on the job, in one transaction."""
    db_indexes.drop_recorded(indexes, recorded=job.dropped_indexes, record=_recorder(job))


def rebuild_indexes(job: ImportJob) -> int:
    """Build again the indexes the job dropped, each in a transaction with its record; returns
    how many were built."""
    return db_indexes.rebuild_recorded(job.dropped_indexes, record=_recorder(job))


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
