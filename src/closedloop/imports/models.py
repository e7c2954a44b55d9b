"""Import jobs: one per file, with the cursor that lets a killed import resume, and its errors."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from closedloop.imports.engine import Format, Kind


class ImportKind(models.TextChoices):
    LEADS = Kind.LEADS.value, "Leads / contacts"
    ACCOUNTS = Kind.ACCOUNTS.value, "Accounts / companies"
    OPPORTUNITIES = Kind.OPPORTUNITIES.value, "Opportunities / deals"
    TOUCHPOINTS = Kind.TOUCHPOINTS.value, "Touchpoints"


class ImportFormat(models.TextChoices):
    HUBSPOT = Format.HUBSPOT.value, "HubSpot export"
    SALESFORCE = Format.SALESFORCE.value, "Salesforce report"
    GENERIC = Format.GENERIC.value, "Generic CSV"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    INTERRUPTED = "interrupted", "Interrupted (can resume)"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One file being imported.

    The cursor (`byte_offset`, `line`) and the counts are written in the same transaction as
    each chunk of rows, so after a crash they describe exactly what is in the database: a
    resumed import starts at `byte_offset` and neither skips nor repeats a row.
    """

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    format = models.CharField(max_length=16, choices=ImportFormat.choices)
    file_name = models.CharField(max_length=255, help_text="The name the file was given")
    file_path = models.CharField(max_length=1000, help_text="Where the server reads it from")
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_size = models.BigIntegerField(default=0, help_text="bytes")
    encoding = models.CharField(max_length=16, default="utf-8-sig")
    delimiter = models.CharField(max_length=1, default=",", help_text="Detected from the file")
    note = models.CharField(max_length=300, blank=True)
    mapping = models.JSONField(default=dict, help_text="{column header: our field or ''}")
    headers = models.JSONField(default=list)

    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING, db_index=True
    )
    message = models.TextField(blank=True, help_text="Why the import failed, when it did")
    worker = models.CharField(max_length=120, blank=True, help_text="host:pid running it")

    byte_offset = models.BigIntegerField(default=0, help_text="Next byte to read")
    line = models.PositiveIntegerField(default=0, help_text="Last physical line read")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Unchanged or blank rows")
    failed = models.PositiveIntegerField(default=0)
    # Secondary indexes this job dropped for a large SQLite load and has not built again yet:
    # [{"table": ..., "name": ..., "sql": "CREATE INDEX ..."}] (closedloop.imports.indexes).
    dropped_indexes = models.JSONField(default=list, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["file_sha256", "kind", "format"], name="importjob_file")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name}"

    @property
    def rows_done(self) -> int:
        return self.created + self.updated + self.skipped + self.failed

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return int(100 * self.byte_offset / self.file_size) if self.file_size else 0

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def can_resume(self) -> bool:
        return self.status in (ImportStatus.INTERRUPTED, ImportStatus.RUNNING, ImportStatus.QUEUED)


class RowError(models.Model):
    """Why one row (or one cell of it) was not imported."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="errors")
    line = models.PositiveIntegerField(help_text="Line of the file where the record starts")
    column = models.CharField(max_length=255, blank=True)
    value = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="rowerror_job_line")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"
