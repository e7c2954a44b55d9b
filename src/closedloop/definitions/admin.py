from django.contrib import admin

from closedloop.definitions.models import ContractVersion, Signoff


class SignoffInline(admin.TabularInline):
    model = Signoff
    extra = 0
    can_delete = False
    readonly_fields = ("side", "user", "signed_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ContractVersion)
class ContractVersionAdmin(admin.ModelAdmin):
    """Read-only: versions change only through the sign-off rules (the Definitions pages and
    API), never by editing a row, or the history would stop meaning what both teams signed."""

    list_display = ("number", "status", "author", "created_at", "activated_at", "change_note")
    list_filter = ("status",)
    inlines = [SignoffInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
