from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from closedloop.core.models import ApiToken, AuditEntry, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("email", "first_name", "last_name", "role", "team", "is_away", "is_active")
    list_filter = ("role", "team", "is_away", "is_active")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("closedloop", {"fields": ("role", "team", "is_away")}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        ("closedloop", {"fields": ("email", "role", "team")}),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone")
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owner (Tokens page or CLI); admins can only see and revoke."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "prefix")
    readonly_fields = ("user", "name", "prefix", "token_hash", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log is append-only: readable here, never editable or deletable."""

    list_display = ("at", "actor", "source", "action", "model", "object_id", "object_repr")
    list_filter = ("source", "action", "model")
    search_fields = ("object_id", "object_repr", "actor__email")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
