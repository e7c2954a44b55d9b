"""Content assets that marketing makes and reps use."""

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


class Persona(models.TextChoices):
    ANY = "", "Any"
    EXECUTIVE = "executive", "Executive buyer"
    TECHNICAL = "technical", "Technical evaluator"
    PRACTITIONER = "practitioner", "Practitioner"
    FINANCE = "finance", "Finance"


class ContentAsset(Audited):
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    file = models.FileField(upload_to="content/%Y/%m/", blank=True)
    url = models.URLField(blank=True)
    description = models.TextField(blank=True)
    persona = models.CharField(max_length=16, choices=Persona.choices, blank=True)
    stage = models.CharField(
        max_length=16,
        choices=LifecycleStage.choices,
        blank=True,
        help_text="Funnel stage the asset is made for",
    )
    industry = models.CharField(max_length=80, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="content_assets",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            models.Index(fields=["kind"], name="asset_kind"),
            models.Index(fields=["persona", "stage"], name="asset_persona_stage"),
        ]

    def __str__(self) -> str:
        return self.title
