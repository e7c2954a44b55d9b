"""Shared helpers for the import tests: sample files and running an import in-process."""

from __future__ import annotations

from pathlib import Path

from closedloop.imports.models import ImportJob
from closedloop.imports.services import create_import_job, run_import

DATA = Path(__file__).parent / "data"


def sample(name: str) -> Path:
    return DATA / name


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode(encoding)
    path.write_bytes(content)
    return path


def import_file(
    path: Path,
    *,
    kind: str = "leads",
    fmt: str = "generic",
    user=None,
    chunk_size: int = 5000,
    mapping: dict | None = None,
) -> ImportJob:
    job = create_import_job(
        path=path, file_name=path.name, kind=kind, fmt=fmt, user=user, mapping=mapping
    )
    return run_import(job, chunk_size=chunk_size)


def accounted(job: ImportJob) -> int:
    return job.created + job.updated + job.skipped + job.failed


def errors_of(job: ImportJob) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.reason) for e in job.errors.order_by("line", "id")]
