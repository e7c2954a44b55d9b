from django.contrib import admin

from closedloop.engagement.models import Touchpoint


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ("type", "lead", "channel", "campaign", "content", "occurred_at")
    list_filter = ("type", "channel")
    raw_id_fields = ("lead", "campaign", "content")
    show_full_result_count = False
