from django.contrib import admin

from closedloop.content.models import ContentAsset


@admin.register(ContentAsset)
class ContentAssetAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "persona", "stage", "industry", "owner")
    list_filter = ("kind", "persona", "stage")
    search_fields = ("title", "description")
    raw_id_fields = ("owner",)
