"""JSON API of the content library: search, assets, their versions, publish and retire.

GET  /api/v1/content/search?q=…&kind=…     matches with score and snippet, and facet counts
GET  /api/v1/content/assets/{asset_id}     one asset with its versions
POST /api/v1/content/assets                metadata (JSON); a link asset, or upload a file next
POST /api/v1/content/assets/{asset_id}/versions   multipart `file`: a new version
PATCH /api/v1/content/assets/{asset_id}    change metadata
POST /api/v1/content/assets/{asset_id}/publish | /retire    marketing only
GET  /api/v1/content/gaps                  searches that found nothing or were not opened
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from ninja import Field, File, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import StrictBool

from closedloop.content import services
from closedloop.content.models import AssetKind, ContentAsset, Persona
from closedloop.content.permissions import sees_all, visible_assets
from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, BodySchema, OutSchema, PathId, not_found
from closedloop.crm.models import LifecycleStage

router = Router(auth=token_auth, tags=["content"])
LINK_URL = r"^$|^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00]+$"  # as the service checks it


class AssetVersionOut(OutSchema):
    number: int
    original_name: str
    mime: str
    size: int
    sha256: str
    extraction: str
    extraction_message: str
    page_count: int | None
    created_at: datetime.datetime


class ContentAssetOut(OutSchema):
    id: int
    title: str
    kind: str
    status: str
    personal: bool
    url: str
    description: str
    persona: str
    stage: str
    industry: str
    product: str
    campaign: int | None = Field(validation_alias="campaign_id")
    tags: list[str] = Field(validation_alias="tag_list")
    review_by: datetime.date | None
    owner: int | None = Field(validation_alias="owner_id")
    duplicate_of: int | None = Field(validation_alias="duplicate_of_id")
    duplicate_similarity: float | None
    effectiveness: float | None
    current_version: AssetVersionOut | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ContentAssetDetailOut(ContentAssetOut):
    versions: list[AssetVersionOut] = Field(validation_alias="version_list")


class ContentAssetIn(BodySchema):
    title: str = Field(min_length=1, max_length=200)
    kind: AssetKind = AssetKind.OTHER
    url: str = Field("", max_length=200, pattern=LINK_URL)
    description: str = Field("", max_length=10_000)
    persona: Persona = Persona.ANY
    stage: LifecycleStage | None = None
    industry: str = Field("", max_length=80)
    product: str = Field("", max_length=80)
    tags: list[str] = Field(default_factory=list, max_length=50)
    review_by: datetime.date | None = None
    personal: StrictBool | None = Field(
        None, description="default: personal for reps, not for marketing"
    )


class ContentAssetPatch(BodySchema):
    title: str | None = Field(None, min_length=1, max_length=200)
    kind: AssetKind | None = None
    url: str | None = Field(None, max_length=200, pattern=LINK_URL)
    description: str | None = Field(None, max_length=10_000)
    persona: Persona | None = None
    stage: LifecycleStage | None = None
    industry: str | None = Field(None, max_length=80)
    product: str | None = Field(None, max_length=80)
    tags: list[str] | None = Field(None, max_length=50)
    review_by: datetime.date | None = None


class ContentHitOut(OutSchema):
    id: int
    title: str
    kind: str
    score: float
    snippet: str


class ContentFacetOut(OutSchema):
    value: str
    label: str
    count: int


class ContentSearchOut(OutSchema):
    query: str
    total: int
    items: list[ContentHitOut]
    facets: dict[str, list[ContentFacetOut]]
    search_id: int | None = Field(description="pass as ?s= when opening a result (gaps page)")


def _asset(request, asset_id: int) -> ContentAsset:
    asset = visible_assets(request.auth).filter(pk=asset_id).first()
    if asset is None:
        raise not_found("asset", asset_id)
    return asset


def _fields(payload: BodySchema, *, unset: bool) -> dict:
    values = payload.dict(exclude_unset=unset)
    values.pop("personal", None)
    if "tags" in values and values["tags"] is not None:
        values["tags"] = ", ".join(values["tags"])
    if "stage" in values and values["stage"] is None:
        values["stage"] = ""
    return {k: v for k, v in values.items() if v is not None or k == "review_by"}


@router.get("/content/search", response={200: ContentSearchOut, **ERRORS})
def search(
    request,
    q: str = Query("", max_length=300),
    kind: str = Query("", max_length=80),
    persona: str = Query("", max_length=80),
    stage: str = Query("", max_length=80),
    industry: str = Query("", max_length=80),
    product: str = Query("", max_length=80),
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=10_000),
):
    """Search what you may see (reps: published and your own uploads); logged for the gaps."""
    filters = {"kind": kind, "persona": persona, "stage": stage, "industry": industry,
               "product": product}  # fmt: skip
    results = services.search_assets(
        request.auth, q.replace("\x00", ""), filters=filters, limit=limit, offset=offset
    )
    items = [
        {"id": h.asset.pk, "title": h.asset.title, "kind": h.asset.kind, "score": h.score,
         "snippet": h.snippet_text}
        for h in results.hits
    ]  # fmt: skip
    facets = {
        name: [{"value": v, "label": label, "count": n} for v, label, n in values]
        for name, values in results.facets.items()
    }
    return {"query": q, "total": results.total, "items": items, "facets": facets,
            "search_id": results.log_id}  # fmt: skip


@router.get("/content/assets/{asset_id}", response={200: ContentAssetDetailOut, **ERRORS})
def get_asset(request, asset_id: PathId, s: int = Query(0, ge=0, le=2**62)):
    """One asset and its versions; `s` (a search_id) records that this search opened it."""
    asset = _asset(request, asset_id)
    if s:
        services.record_search_open(s, asset, user=request.auth)
    setattr(asset, "version_list", list(asset.versions.all()))  # noqa: B010 (read by the schema)
    return ContentAssetDetailOut.model_validate(asset)


@router.post("/content/assets", response={201: ContentAssetOut, **ERRORS})
def create_asset(request, payload: ContentAssetIn):
    """A new draft asset (a rep's goes to their personal space). Give `url` for a link asset,
    or upload its file next with POST .../versions."""
    asset = services.create_asset(
        by=request.auth,
        personal=payload.personal,
        allow_empty=True,
        **_fields(payload, unset=False),
    )
    return Status(201, asset)


@router.patch("/content/assets/{asset_id}", response={200: ContentAssetOut, **ERRORS})
def update_asset(request, asset_id: PathId, payload: ContentAssetPatch):
    asset = _asset(request, asset_id)
    return services.update_asset(asset, by=request.auth, **_fields(payload, unset=True))


@router.post("/content/assets/{asset_id}/versions", response={201: AssetVersionOut, **ERRORS})
def upload_version(request, asset_id: PathId, file: File[UploadedFile]):
    """Upload a file (PDF, Word, PowerPoint, Excel, image; checked by content, size-limited):
    a new version, the old ones kept. Its text is extracted in the background."""
    asset = _asset(request, asset_id)
    upload = services.Upload(file, file.name or "file")
    return Status(201, services.add_version(asset, upload, by=request.auth))


@router.post("/content/assets/{asset_id}/publish", response={200: ContentAssetOut, **ERRORS})
def publish(request, asset_id: PathId):
    """Publish an asset to every rep (marketing only)."""
    return services.publish_asset(_asset(request, asset_id), by=request.auth)


@router.post("/content/assets/{asset_id}/retire", response={200: ContentAssetOut, **ERRORS})
def retire(request, asset_id: PathId):
    """Hide an asset from reps, keeping its history (marketing only)."""
    return services.retire_asset(_asset(request, asset_id), by=request.auth)


@router.get("/content/gaps", response={200: dict, **ERRORS})
def gaps(request, days: int = Query(90, ge=1, le=3650)):
    """Searches that found nothing or where nothing was opened, grouped; marketing's view."""
    if not sees_all(request.auth):
        raise PermissionDenied("content gaps are marketing's view")
    return services.content_gaps(days=days)
