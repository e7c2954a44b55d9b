"""The content library: assets marketing makes (and reps upload), their file versions, searches.

An asset is what a rep finds and shares; each file upload is an `AssetVersion` (replacing a
file adds a version and keeps the old one). A link asset (video, page) has a URL and no file.
Every search is a `SearchLog` row, the raw material of the content-gaps page.
"""

from django.conf import settings
from django.db import models

from closedloop.core.audit import Audited
from closedloop.crm.models import LifecycleStage


class AssetKind(models.TextChoices):
    CASE_STUDY = "case_study", "Case study"
    WHITEPAPER = "whitepaper", "Whitepaper"
    EBOOK = "ebook", "E-book"
    DECK = "deck", "Sales deck"
    ONE_PAGER = "one_pager", "One-pager"
    BATTLECARD = "battlecard", "Battlecard"
    VIDEO = "video", "Video"
    BLOG = "blog", "Blog post"
    WEBINAR = "webinar", "Webinar recording"
    OTHER = "other", "Other"


class Persona(models.TextChoices):
    ANY = "", "Any"
    EXECUTIVE = "executive", "Executive buyer"
    TECHNICAL = "technical", "Technical evaluator"
    PRACTITIONER = "practitioner", "Practitioner"
    FINANCE = "finance", "Finance"


class AssetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class ExtractionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the worker"
    EXTRACTED = "extracted", "Text extracted"
    NO_TEXT = "no_text", "No text (an image)"
    UNREADABLE = "unreadable", "Could not be read"
    ENCRYPTED = "encrypted", "Encrypted (password protected)"
    TOO_LARGE = "too_large", "Text too large (cut at the limit)"


class ContentAsset(Audited):
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    url = models.URLField(blank=True, help_text="A video or page this asset links to")
    description = models.TextField(blank=True)
    persona = models.CharField(max_length=16, choices=Persona.choices, blank=True)
    stage = models.CharField(
        max_length=16,
        choices=LifecycleStage.choices,
        blank=True,
        help_text="Funnel stage the asset is made for",
    )
    industry = models.CharField(max_length=80, blank=True)
    product = models.CharField(max_length=80, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="content_assets",
    )
    tags = models.CharField(max_length=500, blank=True, help_text="Comma-separated")
    review_by = models.DateField(null=True, blank=True, help_text="Review or retire by this date")
    status = models.CharField(max_length=10, choices=AssetStatus.choices, default=AssetStatus.DRAFT)
    # A rep's own upload: visible to its owner (and marketing), never published as is.
    personal = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="content_assets",
    )
    current_version = models.ForeignKey(
        "AssetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set on a personal upload whose text nearly duplicates a published asset.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="recreations"
    )
    duplicate_similarity = models.FloatField(null=True, blank=True)
    # Measured effectiveness (usage and deal lift), filled by the usage analytics; search
    # ranks by it after relevance. None until measured.
    effectiveness = models.FloatField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            models.Index(fields=["kind"], name="asset_kind"),
            models.Index(fields=["persona", "stage"], name="asset_persona_stage"),
            models.Index(fields=["status", "personal"], name="asset_status_personal"),
            models.Index(fields=["owner", "personal"], name="asset_owner_personal"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]

    @property
    def is_link(self) -> bool:
        return bool(self.url) and self.current_version_id is None


def version_path(version: "AssetVersion", filename: str) -> str:
    """Files live under the data folder's media/content/<asset>/<version>/ (names kept)."""
    return f"content/{version.asset_id}/{version.number}/{filename}"


class AssetVersion(models.Model):
    asset = models.ForeignKey(ContentAsset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=version_path, max_length=300)
    original_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=120, help_text="Detected from the content, not the name")
    extraction = models.CharField(
        max_length=12, choices=ExtractionStatus.choices, default=ExtractionStatus.PENDING
    )
    extraction_message = models.CharField(max_length=300, blank=True)
    extracted_text = models.TextField(blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    # MinHash signature of the text (uint32 little-endian), for near-duplicate detection.
    minhash = models.BinaryField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["asset", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "number"], name="asset_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.number}"


class SearchLog(models.Model):
    """One search in the library: what was asked, by whom, how many results, what was opened."""

    query = models.CharField(max_length=300)
    normalized = models.CharField(max_length=300, help_text="Lower case, words sorted")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filters = models.JSONField(default=dict, blank=True)
    result_count = models.PositiveIntegerField()
    opened_asset = models.ForeignKey(
        ContentAsset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], name="search_at"),
            models.Index(fields=["normalized", "created_at"], name="search_normalized_at"),
        ]

    def __str__(self) -> str:
        return self.query


# Share links, the reps' usage log and content requests live in their own module.
from closedloop.content.usage_models import (  # noqa: E402,F401
    ContentRequest,
    RequestStatus,
    ShareLink,
    Urgency,
    UsageEvent,
    UsageKind,
)
