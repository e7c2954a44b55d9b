"""Writing the library: assets, their file versions, publishing and retiring.

Every door (pages, API, CLI, admin, demo) creates and changes assets through these functions.
A refusal is a ValidationError naming the field, or PermissionDenied.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from closedloop.content import extract
from closedloop.content.models import AssetKind, AssetStatus, AssetVersion, ContentAsset
from closedloop.content.permissions import can_write, check_curate, check_edit, curates
from closedloop.content.search import index_assets
from closedloop.core.models import User

# Fields a form, the API or the CLI may set on an asset.
EDITABLE = (
    "title", "kind", "url", "description", "persona", "stage", "industry", "product",
    "campaign", "tags", "review_by",
)  # fmt: skip


@dataclass(frozen=True)
class Upload:
    """A file as it arrives: its bytes (a readable binary stream) and the name it came with."""

    stream: IO[bytes]
    name: str


# Pages read files up to this size during the upload itself, so a rep hears at once that an
# upload copies the library; bigger files wait for the worker.
INLINE_EXTRACTION_BYTES = 2 * 1024 * 1024


def read_at_once(size: int) -> bool:
    return size <= INLINE_EXTRACTION_BYTES


def max_upload_bytes() -> int:
    return int(settings.CONTENT_MAX_UPLOAD_MB) * 1024 * 1024


def create_asset(
    *,
    by: User | None,
    upload: Upload | None = None,
    personal: bool | None = None,
    extract_now: bool = False,
    allow_empty: bool = False,
    **fields: Any,
) -> ContentAsset:
    """A new asset (a draft; a rep's is personal) with the given EDITABLE fields, and its
    first file version when `upload` is given. Text extraction is queued after commit (done
    at once with `extract_now`). Without a file or a link it is refused, unless `allow_empty`
    (the API uploads the file in a second call)."""
    if not can_write(by):
        raise PermissionDenied("executives have read-only access")
    personal = (not curates(by)) if personal is None else personal
    if not personal:
        check_curate(by)
    asset = ContentAsset(owner=by, personal=personal, kind=AssetKind.OTHER)
    _assign(asset, fields)
    if upload is None and not asset.url and not allow_empty:
        raise ValidationError({"file": "Give a file, or a link (url) to a video or page."})
    with transaction.atomic():
        _validated_save(asset)
        if upload is not None:
            add_version(asset, upload, by=by, extract_now=extract_now)
        index_assets([asset.pk])
    return asset


def _assign(asset: ContentAsset, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "This field cannot be set." for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(
            asset, name, "" if value is None and name not in ("campaign", "review_by") else value
        )
    asset.tags = ", ".join(t.strip() for t in (asset.tags or "").split(",") if t.strip())


# A link is http(s) and nothing else (no javascript: or data: in an href), and no more: what a
# video or page host accepts is for the browser to find out.
_LINK = re.compile(r"^https?://[^\s\x00]+$", re.IGNORECASE)


def _validated_save(asset: ContentAsset) -> None:
    if not asset.title.strip():
        raise ValidationError({"title": "A title is required."})
    if asset.url and not _LINK.match(asset.url):
        raise ValidationError({"url": "A link starts with http:// or https://."})
    asset.full_clean(exclude=["owner", "current_version", "duplicate_of", "campaign", "url"])
    asset.save()


def update_asset(asset: ContentAsset, *, by: User | None, **fields: Any) -> ContentAsset:
    """Change the EDITABLE fields of an asset (marketing, or the owner of a personal one)."""
    check_edit(by, asset)
    _assign(asset, fields)
    with transaction.atomic():
        _validated_save(asset)
        index_assets([asset.pk])
    return asset


def publish_asset(asset: ContentAsset, *, by: User | None) -> ContentAsset:
    """Make an asset visible to every rep (marketing only). A personal upload becomes part of
    the library when marketing publishes it."""
    check_curate(by)
    asset.status, asset.personal = AssetStatus.PUBLISHED, False
    asset.published_at, asset.retired_at = timezone.now(), None
    asset.save(update_fields=["status", "personal", "published_at", "retired_at", "updated_at"])
    return asset


def retire_asset(asset: ContentAsset, *, by: User | None) -> ContentAsset:
    """Hide an asset from reps (marketing only); its versions, usage and history stay."""
    check_curate(by)
    asset.status, asset.retired_at = AssetStatus.RETIRED, timezone.now()
    asset.save(update_fields=["status", "retired_at", "updated_at"])
    return asset


# --- file versions ---------------------------------------------------------------------------


def add_version(
    asset: ContentAsset, upload: Upload, *, by: User | None, extract_now: bool = False
) -> AssetVersion:
    """Store a new file version of `asset` (the old ones stay) and make it the current one.

    The file is checked by its content: empty, over the size limit, or not a PDF, Word,
    PowerPoint, Excel or image file is refused (ValidationError on "file"). Its text is
    extracted by the worker after commit, or at once with `extract_now`."""
    check_edit(by, asset)
    with _spooled(upload) as (path, size, digest):
        mime = _checked_type(path, size)
        with transaction.atomic():
            version = _store(asset, path, upload.name, size=size, digest=digest, mime=mime, by=by)
    if extract_now:
        from closedloop.content.services.extraction import extract_version

        extract_version(version.pk)
    else:
        transaction.on_commit(lambda: _queue_extraction(version.pk))
    return version


def _queue_extraction(version_id: int) -> None:
    from closedloop.content.tasks import extract_version_text

    extract_version_text.enqueue(version_id)


class _Spool:
    def __init__(self, upload: Upload):
        self.upload = upload
        self.file = tempfile.NamedTemporaryFile(prefix="closedloop-upload-", delete=True)

    def __enter__(self) -> tuple[Path, int, str]:
        digest, size, limit = hashlib.sha256(), 0, max_upload_bytes()
        while chunk := self.upload.stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise ValidationError(
                    {"file": f"The file is over the {settings.CONTENT_MAX_UPLOAD_MB} MB limit."}
                )
            digest.update(chunk)
            self.file.write(chunk)
        self.file.flush()
        return Path(self.file.name), size, digest.hexdigest()

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def _spooled(upload: Upload) -> _Spool:
    """The upload copied to a temporary file (size checked while copying), with its size and
    SHA-256."""
    return _Spool(upload)


def _checked_type(path: Path, size: int) -> str:
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    mime = extract.sniff(path)
    if mime not in extract.ALLOWED:
        raise ValidationError(
            {
                "file": f"This file's content is {extract.describe(mime)}, not a PDF, Word, "
                "PowerPoint, Excel or image file (the name does not decide)."
            }
        )
    return mime


def _store(
    asset: ContentAsset,
    path: Path,
    name: str,
    *,
    size: int,
    digest: str,
    mime: str,
    by: User | None,
) -> AssetVersion:
    latest = asset.versions.aggregate(n=Max("number"))["n"] or 0
    version = AssetVersion(
        asset=asset, number=latest + 1, original_name=Path(name).name[:200] or "file",
        sha256=digest, size=size, mime=mime, uploaded_by=by,
    )  # fmt: skip
    with path.open("rb") as f:
        version.file.save(_safe_name(name), File(f), save=False)
    version.save()
    asset.current_version = version
    asset.save(update_fields=["current_version", "updated_at"])
    return version


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)
    return keep.strip("._")[:100] or "file"
