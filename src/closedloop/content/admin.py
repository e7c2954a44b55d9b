"""The Django admin of the library: edits and status changes go through content.services."""

from django.contrib import admin
from django.db import models

from closedloop.content import services
from closedloop.content.models import AssetVersion, ContentAsset, SearchLog


class VersionInline(admin.TabularInline):
    model = AssetVersion
    fields = ("number", "original_name", "mime", "size", "extraction", "extraction_message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False  # new files go through the library page (checked by content)


@admin.register(ContentAsset)
class ContentAssetAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "personal", "persona", "stage", "owner")
    list_filter = ("status", "personal", "kind", "persona", "stage")
    search_fields = ("title", "description", "tags")
    raw_id_fields = ("owner", "campaign")
    fields = services.EDITABLE
    inlines = [VersionInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["publish", "retire"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in services.EDITABLE}
        if change:
            services.update_asset(obj, by=request.user, **values)
        else:
            created = services.create_asset(by=request.user, allow_empty=True, **values)
            obj.pk = created.pk

    @admin.action(description="Publish to every rep")
    def publish(self, request, queryset):
        for asset in queryset:
            services.publish_asset(asset, by=request.user)

    @admin.action(description="Retire (hide from reps, keep history)")
    def retire(self, request, queryset):
        for asset in queryset:
            services.retire_asset(asset, by=request.user)


@admin.register(SearchLog)
class SearchLogAdmin(admin.ModelAdmin):
    list_display = ("query", "user", "result_count", "opened_asset", "created_at")
    list_filter = ("created_at",)
    search_fields = ("query",)
    readonly_fields = ("query", "normalized", "user", "filters", "result_count", "opened_asset",
                       "opened_at", "created_at")  # fmt: skip

    def has_add_permission(self, request):
        return False
