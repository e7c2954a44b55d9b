"""JSON API for imports (admins and marketing) and CSV exports (as the token's user may see).

POST /api/v1/imports            multipart: file, kind, format, optional mapping (JSON
                                {column: field}); starts the import as a background task
GET  /api/v1/imports/{id}       status, cursor and counts
GET  /api/v1/imports/{id}/errors   the failed rows as CSV
GET  /api/v1/exports/{kind}     CSV of leads|accounts|opportunities|touchpoints, filtered
"""

from __future__ import annotations

import datetime
import json
from typing import Literal

from django.core.exceptions import PermissionDenied
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, ApiError, invalid, not_found
from closedloop.imports.exports import COLUMNS, ExportRefused, export_rows, neutralise
from closedloop.imports.models import ImportFormat, ImportJob, ImportKind
from closedloop.imports.services import (
    ImportRefused,
    enqueue_import,
    error_rows,
    save_upload,
    set_mapping,
    visible_import_jobs,
)
from closedloop.imports.views import IMPORTERS, stream_csv

router = Router(tags=["imports"], auth=token_auth)
# The kinds export_rows serves, as an enum in the OpenAPI document.
ExportKind = Literal[tuple(COLUMNS)]  # type: ignore[valid-type]


class ImportOut(Schema):
    id: int
    kind: str
    format: str
    file_name: str
    status: str
    message: str
    note: str
    mapping: dict[str, str]
    line: int
    created: int
    updated: int
    skipped: int
    failed: int
    percent: int
    created_at: datetime.datetime


def _importer(request) -> None:
    if request.auth.role not in IMPORTERS:
        raise PermissionDenied("only admins and marketing can import")


def _job(request, pk: int) -> ImportJob:
    job = visible_import_jobs(request.auth).filter(pk=pk).first()
    if job is None:
        raise not_found("import", pk)
    return job


@router.post("/imports", response={201: ImportOut, **ERRORS})
def create_import(
    request,
    file: File[UploadedFile],
    kind: Form[ImportKind],
    format: Form[ImportFormat],
    mapping: Form[str] = "",
):
    """Upload a CSV and start importing it; `mapping` overrides the detected column mapping."""
    _importer(request)
    if kind not in ImportKind.values:
        raise invalid("kind", f"must be one of {', '.join(ImportKind.values)}")
    if format not in ImportFormat.values:
        raise invalid("format", f"must be one of {', '.join(ImportFormat.values)}")
    try:
        job = save_upload(file, kind=kind, fmt=format, user=request.auth)
    except ImportRefused as exc:
        raise invalid("file", str(exc)) from exc
    if mapping:
        try:
            edited = json.loads(mapping)
        except json.JSONDecodeError as exc:
            raise invalid("mapping", f"not JSON: {exc}") from exc
        if not isinstance(edited, dict):
            raise invalid("mapping", "must be an object {column: field}")
        problems = set_mapping(job, {str(k): str(v or "") for k, v in edited.items()})
        if problems:
            raise invalid("mapping", "; ".join(problems))
    enqueue_import(job)
    job.refresh_from_db()
    return Status(201, job)


@router.get("/imports/{job_id}", response={200: ImportOut, **ERRORS})
def get_import(request, job_id: int):
    _importer(request)
    return _job(request, job_id)


@router.get("/imports/{job_id}/errors", response={200: None, **ERRORS})
def get_import_errors(request, job_id: int):
    """The failed rows as CSV: line, column, value, reason."""
    _importer(request)
    job = _job(request, job_id)
    return stream_csv(
        ([neutralise(c) for c in row] for row in error_rows(job)), f"import-{job.pk}-errors.csv"
    )


@router.get("/exports/{kind}", response={200: None, **ERRORS})
def export(request, kind: ExportKind):  # type: ignore[valid-type]
    """CSV of the records the token's user may see; query parameters are the list's filters."""
    params = {k: v for k, v in request.GET.items() if k not in ("raw", "page")}
    try:
        raw = request.GET.get("raw") == "1"
        rows = export_rows(kind, user=request.auth, params=params, raw=raw)
    except ExportRefused as exc:
        field = "raw" if "raw" in str(exc) else ("kind" if "kind" in str(exc) else "filter")
        raise ApiError(403 if field == "raw" else 422, field, str(exc)) from exc
    return stream_csv(rows, f"closedloop-{kind}.csv")
