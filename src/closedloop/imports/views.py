"""Import pages (upload, column mapping preview, progress, error CSV) and CSV exports.

Imports are for admins and marketing (DESIGN.md: marketing loads lists; sales works them).
Exports are for everyone, and hold only what the user may see.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from closedloop.core.models import Role
from closedloop.imports.engine import TARGETS, Kind
from closedloop.imports.exports import ExportRefused, export_rows, neutralise
from closedloop.imports.models import ImportFormat, ImportJob, ImportKind, ImportStatus
from closedloop.imports.services import (
    ImportRefused,
    enqueue_import,
    error_rows,
    is_abandoned,
    preview_rows,
    save_upload,
    set_mapping,
    visible_import_jobs,
)

IMPORTERS = (Role.ADMIN, Role.MARKETING)
RECENT_JOBS = 20


def require_importer(user) -> None:
    if user.role not in IMPORTERS:
        raise PermissionDenied("only admins and marketing can import")


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def stream_csv(rows, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def imports_home(request):
    """Recent imports and the upload form; a good upload goes on to the mapping preview."""
    require_importer(request.user)
    errors: list[str] = []
    if request.method == "POST":
        kind, fmt = request.POST.get("kind", ""), request.POST.get("format", "")
        uploaded = request.FILES.get("file")
        if kind not in ImportKind.values:
            errors.append("kind: choose what the file holds")
        if fmt not in ImportFormat.values:
            errors.append("format: choose where the file comes from")
        if uploaded is None:
            errors.append("file: choose a CSV file to upload")
        if not errors:
            try:
                job = save_upload(uploaded, kind=kind, fmt=fmt, user=request.user)
            except ImportRefused as exc:
                errors.append(f"file: {exc}")
            else:
                return redirect("import-detail", pk=job.pk)
    context = {
        "jobs": visible_import_jobs(request.user).select_related("created_by")[:RECENT_JOBS],
        "kinds": ImportKind.choices,
        "formats": ImportFormat.choices,
        "errors": errors,
        "chosen": request.POST,
    }
    return render(request, "imports/home.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk: int):
    """PENDING: the mapping preview (POST starts the import). Later: progress and results."""
    require_importer(request.user)
    job = get_object_or_404(visible_import_jobs(request.user), pk=pk)
    problems: list[str] = []
    if request.method == "POST":
        if job.status != ImportStatus.PENDING:
            messages.error(request, "This import has already started.")
            return redirect("import-detail", pk=job.pk)
        mapping = {header: request.POST.get(f"col-{i}", "") for i, header in enumerate(job.headers)}
        problems = set_mapping(job, mapping)
        if not problems:
            enqueue_import(job)
            return redirect("import-detail", pk=job.pk)
    return render(
        request,
        "imports/detail.html",
        _detail_context(job, problems),
        status=400 if problems else 200,
    )


def _detail_context(job: ImportJob, problems: list[str]) -> dict:
    context = {"job": job, "problems": problems}
    if job.status == ImportStatus.PENDING:
        preview = preview_rows(job)
        targets = TARGETS[Kind(job.kind)]
        context["columns"] = [
            {
                "index": i,
                "header": header,
                "target": job.mapping.get(header, ""),
                "samples": [row[i] if i < len(row) else "" for row in preview],
            }
            for i, header in enumerate(job.headers)
        ]
        context["targets"] = [(name, target.label) for name, target in targets.items()]
    return context


@login_required
def import_progress(request, pk: int):
    """The progress panel, polled by htmx every second while the import runs."""
    require_importer(request.user)
    job = get_object_or_404(visible_import_jobs(request.user), pk=pk)
    return render(request, "imports/_progress.html", {"job": job})


@login_required
@require_POST
def import_resume(request, pk: int):
    require_importer(request.user)
    job = get_object_or_404(visible_import_jobs(request.user), pk=pk)
    stuck = job.status == ImportStatus.RUNNING and is_abandoned(job)
    if job.status != ImportStatus.INTERRUPTED and not stuck:
        messages.error(request, "Only an interrupted import can be resumed.")
    elif enqueue_import(job):
        messages.success(request, f"Import resumed from line {job.line + 1}.")
    return redirect("import-detail", pk=job.pk)


@login_required
def import_errors(request, pk: int):
    """The failed rows of an import as CSV: line, column, value, reason (values neutralised)."""
    require_importer(request.user)
    job = get_object_or_404(visible_import_jobs(request.user), pk=pk)
    rows = ([neutralise(cell) for cell in row] for row in error_rows(job))
    return stream_csv(rows, f"import-{job.pk}-errors.csv")


@login_required
def export_csv(request, kind: str):
    """The list of `kind` as filtered by the query string, as the user may see it, as CSV.

    `?raw=1` (admins only) leaves formula-like cells as they are.
    """
    raw = request.GET.get("raw") == "1"
    if raw and request.user.role != Role.ADMIN:
        raise PermissionDenied("only admins may export raw values")
    params = {k: v for k, v in request.GET.items() if k not in ("raw", "page")}
    try:
        rows = export_rows(kind, user=request.user, params=params, raw=raw)
    except ExportRefused as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return stream_csv(rows, f"closedloop-{kind}.csv")
