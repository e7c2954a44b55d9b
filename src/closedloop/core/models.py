"""Users with roles, teams, personal API tokens and the append-only audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MARKETING = "marketing", "Marketing"
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Sales manager"
    EXECUTIVE = "executive", "Executive"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # Working hours and holidays per team arrive with the SLA work; the zone is needed already.
    time_zone = models.CharField(max_length=64, default="UTC")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def display_name(first_name: str | None, last_name: str | None, email: str | None) -> str:
    """How people are shown everywhere: their name, or their e-mail when they have none."""
    name = f"{first_name or ''} {last_name or ''}".strip()
    return name or email or ""


class ClosedloopUserManager(UserManager):
    """Users log in with their email; the username mirrors it for Django's auth forms."""

    def create_user(self, username=None, email=None, password=None, **extra):
        email = self.normalize_email(email or username)
        return super().create_user(email, email, password, **extra)

    def create_superuser(self, username=None, email=None, password=None, **extra):
        extra.setdefault("role", Role.ADMIN)
        email = self.normalize_email(email or username)
        return super().create_superuser(email, email, password, **extra)


class User(AbstractUser):
    email = models.EmailField(unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP, db_index=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    is_away = models.BooleanField(default=False, help_text="Skipped by round-robin routing")

    objects = ClosedloopUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The person's name (their e-mail only when no name is known)."""
        return display_name(self.first_name, self.last_name, self.email)

    # Role questions are asked everywhere; keep the answers in one place.
    @property
    def sees_all_leads(self) -> bool:
        return self.role in (Role.ADMIN, Role.MARKETING, Role.EXECUTIVE)

    @property
    def can_reassign(self) -> bool:
        return self.role in (Role.ADMIN, Role.MANAGER)

    @property
    def can_write(self) -> bool:
        return self.role != Role.EXECUTIVE


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="First characters, to tell tokens apart")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditSource(models.TextChoices):
    UI = "ui", "Web UI"
    API = "api", "API"
    IMPORT = "import", "Import"
    JOB = "job", "Background job"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System"


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    BULK = "bulk", "Bulk change"


class AppendOnlyError(Exception):
    pass


class AuditEntry(models.Model):
    """One create, update or delete: who, when, what, old → new, and through which channel.

    Append-only: saving an existing entry or deleting one raises AppendOnlyError.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=8, choices=AuditSource.choices)
    action = models.CharField(max_length=8, choices=AuditAction.choices)
    model = models.CharField(max_length=64, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.model}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted")
