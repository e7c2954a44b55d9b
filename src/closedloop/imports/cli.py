"""`closedloop import` and `closedloop export`: the command-line side of this app.

The commands in `closedloop.cli` parse options and call these, after Django is set up.
"""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource, User
from closedloop.imports.models import ImportJob, ImportStatus
from closedloop.imports.services import (
    CHUNK_ROWS,
    ImportRefused,
    create_import_job,
    error_rows,
    find_resumable_job,
    run_import,
    summary,
)


def _user(email: str) -> User | None:
    if not email:
        return None
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise typer.BadParameter(f"no user with email {email}")
    return user


def _job_to_run(file: Path | None, *, kind: str, fmt: str, resume: int, user) -> ImportJob:
    if resume:
        job = ImportJob.objects.filter(pk=resume).first()
        if job is None:
            raise typer.BadParameter(f"no import job {resume}")
        return job
    if file is None:
        raise typer.BadParameter("give a FILE to import, or --resume JOB_ID")
    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file")
    job = find_resumable_job(path=file, kind=kind, fmt=fmt)
    if job is not None:
        typer.echo(f"Resuming import {job.pk} of the same file from line {job.line + 1}.")
        return job
    return create_import_job(path=file, file_name=file.name, kind=kind, fmt=fmt, user=user)


def import_command(
    file: Path | None,
    *,
    kind: str,
    fmt: str,
    resume: int,
    errors: Path | None,
    as_user: str,
    chunk_size: int = CHUNK_ROWS,
    progress: bool = True,
) -> None:
    """Import FILE (or resume a job), showing a progress bar; writes the error CSV if rows fail."""
    user = _user(as_user)
    try:
        job = _job_to_run(file, kind=kind, fmt=fmt, resume=resume, user=user)
    except ImportRefused as exc:
        raise typer.BadParameter(str(exc)) from exc
    if job.note:
        typer.echo(job.note)
    mapped = {h: t for h, t in job.mapping.items() if t}
    typer.echo(
        f"Import {job.pk}: {len(mapped)} of {len(job.headers)} columns mapped "
        f"({', '.join(f'{h} → {t}' for h, t in mapped.items())})."
    )
    try:
        _run_with_progress(job, chunk_size=chunk_size, show=progress)
    except ImportRefused as exc:
        typer.echo(f"Import refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(summary(job))
    if job.failed:
        target = errors or Path(f"{job.file_name}.errors.csv")
        write_csv(target, error_rows(job))
        typer.echo(f"Failed rows, with line, column and reason: {target}")


def _run_with_progress(job: ImportJob, *, chunk_size: int, show: bool) -> None:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not show, transient=False) as bar:
        task = bar.add_task(
            f"import {job.pk}", total=job.file_size, completed=job.byte_offset, rows=job.rows_done
        )

        def advance(done: ImportJob) -> None:
            bar.update(task, completed=done.byte_offset, rows=done.rows_done)

        run_import(job, chunk_size=chunk_size, on_chunk=advance)
        bar.update(task, completed=job.file_size)
    if job.status != ImportStatus.DONE:
        raise ImportRefused(job.message)


def write_csv(path: Path, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)


def export_command(file: Path, *, kind: str, filters: list[str], raw: bool, as_user: str) -> None:
    """Write the export of `kind` (filtered, as seen by --as user or by everyone) to FILE."""
    from closedloop.imports.exports import ExportRefused, export_rows

    user = _user(as_user)
    params = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--filter {item!r}: use key=value")
        params[key.strip()] = value
    count = 0
    with acting_as(user, AuditSource.CLI), open(file, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        try:
            for row in export_rows(kind, user=user, params=params, raw=raw):
                writer.writerow(row)
                count += 1
        except ExportRefused as exc:
            raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"Exported {max(count - 1, 0)} {kind} to {file}")
