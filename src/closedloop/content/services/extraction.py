"""Reading a version's text (run by the worker), indexing it, and spotting re-created copies."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.db import transaction
from django.db.models import Count

from closedloop.content import extract
from closedloop.content.engine import duplicates
from closedloop.content.models import (
    AssetStatus,
    AssetVersion,
    ContentAsset,
    ExtractionStatus,
)
from closedloop.content.search import index_assets


def extract_version(version_id: int) -> str:
    """Extract the text of one version, store it with its status, index the asset and, for a
    rep's personal upload, look for the published asset it nearly duplicates. Returns the
    status; never raises for a bad file (the status and message say what is wrong)."""
    version = AssetVersion.objects.select_related("asset").filter(pk=version_id).first()
    if version is None:
        return ""
    result = _read(version)
    with transaction.atomic():
        version.extraction = result.status
        version.extraction_message = result.message[:300]
        version.extracted_text = result.text
        version.page_count = result.pages
        version.minhash = duplicates.minhash(result.text) if result.text else None
        version.save()
        asset = version.asset
        if asset.personal and asset.current_version_id == version.pk:
            mark_duplicate(asset, version)
        index_assets([asset.pk])
    return result.status


def _read(version: AssetVersion) -> extract.Extraction:
    try:
        path = Path(version.file.path)
    except (ValueError, NotImplementedError):
        return extract.Extraction(ExtractionStatus.UNREADABLE, message="The file is missing.")
    if not path.exists():
        return extract.Extraction(ExtractionStatus.UNREADABLE, message="The file is missing.")
    return extract.extract(path, version.mime)


def mark_duplicate(asset: ContentAsset, version: AssetVersion) -> None:
    """Record on a personal asset which published asset its text nearly duplicates (or none)."""
    found = None
    if version.minhash:
        found = duplicates.nearest(bytes(version.minhash), _published_signatures(exclude=asset.pk))
    asset.duplicate_of_id, asset.duplicate_similarity = found if found else (None, None)
    asset.save(update_fields=["duplicate_of", "duplicate_similarity", "updated_at"])


def _published_signatures(*, exclude: int) -> list[tuple[int, bytes]]:
    rows = (
        ContentAsset.objects.filter(status=AssetStatus.PUBLISHED, personal=False)
        .exclude(pk=exclude)
        .exclude(current_version__minhash=None)
        .values_list("pk", "current_version__minhash")
    )
    return [(pk, bytes(sig)) for pk, sig in rows if sig is not None]


def recreation_counts() -> dict[str, list[dict]]:
    """Personal uploads that re-create published assets, per rep and per team: the measured
    "reps rebuild their own content". {"reps": [{rep, team, recreated, personal}], "teams":
    [{team, recreated}]}, most first."""
    rows = (
        ContentAsset.objects.filter(personal=True)
        .values("owner__email", "owner__first_name", "owner__last_name", "owner__team__name")
        .annotate(personal=Count("pk"), recreated=Count("duplicate_of"))
        .order_by("-recreated", "owner__email")
    )
    reps = [
        {
            "rep": " ".join(filter(None, [r["owner__first_name"], r["owner__last_name"]]))
            or r["owner__email"]
            or "(deleted user)",
            "team": r["owner__team__name"] or "",
            "recreated": r["recreated"],
            "personal": r["personal"],
        }
        for r in rows
    ]
    teams: Counter[str] = Counter()
    for r in reps:
        teams[r["team"] or "(no team)"] += r["recreated"]
    return {
        "reps": reps,
        "teams": [{"team": t, "recreated": n} for t, n in teams.most_common()],
    }
