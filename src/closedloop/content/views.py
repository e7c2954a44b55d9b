"""The library's pages: search with facets, an asset with its versions, the upload and edit
forms, publishing and retiring, and the content-gaps page for marketing."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from closedloop.content import services
from closedloop.content.forms import AssetForm
from closedloop.content.models import AssetVersion, ContentAsset
from closedloop.content.permissions import curates, may_edit, sees_all, visible_assets
from closedloop.content.services import sharing
from closedloop.content.usage_models import UsageKind

PAGE_SIZE = 20


def _visible_asset(request, pk: int) -> ContentAsset:
    # An asset the user may not see is a 404, indistinguishable from one that does not exist.
    queryset = visible_assets(request.user).select_related("owner", "campaign", "current_version")
    return get_object_or_404(queryset, pk=pk)


@login_required
def library(request):
    text = request.GET.get("q", "").strip()[:300]
    filters = {f: request.GET.get(f, "").strip()[:80] for f in services.FACETS}
    page = max(_int(request.GET.get("page"), 1), 1)
    results = services.search_assets(
        request.user, text, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    context = {
        "results": results,
        "filters": filters,
        "facets": _facet_links(text, filters, results),
        "query_string": urlencode({"q": text, **{k: v for k, v in filters.items() if v}}),
        "page": page,
        "has_next": page * PAGE_SIZE < results.total,
        "curates": curates(request.user),
    }
    return render(request, "content/library.html", context)


_FACET_NAMES = {
    "kind": "Kind",
    "persona": "Persona",
    "stage": "Stage",
    "industry": "Industry",
    "product": "Product",
}


def _facet_links(text: str, filters: dict[str, str], results: services.Results) -> list:
    """[(facet title, [(label, count, selected, query string)])]: a link sets the facet's
    value (or clears it when it is already chosen), keeping the text and the other filters."""
    groups = []
    for name, values in results.facets.items():
        links = []
        for value, label, count in values:
            selected = bool(value) and filters.get(name) == value
            chosen = {**filters, name: "" if selected else value}
            query = urlencode({"q": text, **{k: v for k, v in chosen.items() if v}})
            links.append((label, count, selected, query))
        groups.append((_FACET_NAMES[name], links))
    return groups


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@login_required
def asset_detail(request, pk: int):
    asset = _visible_asset(request, pk)
    search = _int(request.GET.get("s"), 0)
    if search:
        services.record_search_open(search, asset, user=request.user)
    sharing.record_sales_use(asset, user=request.user, kind=UsageKind.OPEN)
    context = {
        "asset": asset,
        "versions": asset.versions.select_related("uploaded_by"),
        "may_edit": may_edit(request.user, asset),
        "curates": curates(request.user),
    }
    return render(request, "content/asset.html", context)


@login_required
def asset_new(request):
    if not request.user.can_write:
        raise PermissionDenied("executives have read-only access")
    form = AssetForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = request.FILES.get("file")
        try:
            asset = services.create_asset(
                by=request.user,
                upload=services.Upload(upload, upload.name) if upload else None,
                extract_now=bool(upload) and services.read_at_once(upload.size),
                **form.fields_for_service(),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            _say_duplicate_or_saved(request, asset)
            return redirect("content-asset", pk=asset.pk)
    status = 422 if form.errors else 200
    return render(request, "content/asset_form.html", {"form": form, "asset": None}, status=status)


def _add_errors(form: AssetForm, exc: ValidationError) -> None:
    for name, problems in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, problems)


def _say_duplicate_or_saved(request, asset: ContentAsset) -> None:
    asset.refresh_from_db()
    if asset.duplicate_of_id:
        messages.warning(
            request,
            f"Saved. This nearly duplicates “{asset.duplicate_of}” from the library "
            f"({asset.duplicate_similarity:.0%} similar): consider using that one.",
        )
    else:
        messages.success(request, "Saved.")


@login_required
def asset_edit(request, pk: int):
    asset = _visible_asset(request, pk)
    if not may_edit(request.user, asset):
        raise PermissionDenied("only marketing edits the library's assets")
    form = AssetForm(request.POST or None, instance=asset)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_asset(asset, by=request.user, **form.fields_for_service())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("content-asset", pk=asset.pk)
    status = 422 if form.errors else 200
    return render(request, "content/asset_form.html", {"form": form, "asset": asset}, status=status)


@login_required
@require_POST
def asset_version_new(request, pk: int):
    asset = _visible_asset(request, pk)
    if not may_edit(request.user, asset):
        raise PermissionDenied("only marketing edits the library's assets")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "file: choose a file to upload.")
        return redirect("content-asset", pk=pk)
    try:
        services.add_version(
            asset,
            services.Upload(upload, upload.name),
            by=request.user,
            extract_now=services.read_at_once(upload.size),
        )
    except ValidationError as exc:
        messages.error(
            request, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        )
    else:
        messages.success(request, "New version uploaded; its text is being read.")
    return redirect("content-asset", pk=pk)


@login_required
@require_POST
def asset_publish(request, pk: int):
    asset = _visible_asset(request, pk)
    services.publish_asset(asset, by=request.user)
    messages.success(request, "Published: every rep can find it now.")
    return redirect("content-asset", pk=pk)


@login_required
@require_POST
def asset_retire(request, pk: int):
    asset = _visible_asset(request, pk)
    services.retire_asset(asset, by=request.user)
    messages.success(request, "Retired: hidden from reps, its history kept.")
    return redirect("content-asset", pk=pk)


@login_required
def version_file(request, pk: int, number: int):
    asset = _visible_asset(request, pk)
    version = get_object_or_404(AssetVersion, asset=asset, number=number)
    try:
        handle = version.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("the file is missing") from exc
    sharing.record_sales_use(asset, user=request.user, kind=UsageKind.DOWNLOAD, version=version)
    return FileResponse(
        handle, as_attachment=True, filename=version.original_name, content_type=version.mime
    )


@login_required
def gaps(request):
    if not sees_all(request.user):
        raise PermissionDenied("content gaps are marketing's page")
    days = min(max(_int(request.GET.get("days"), 90), 1), 3650)
    report = services.content_gaps(days=days)
    page = Paginator(report["gaps"], 50).get_page(request.GET.get("page"))
    context = {"report": report, "page": page, "recreated": services.recreation_counts()}
    return render(request, "content/gaps.html", context)
