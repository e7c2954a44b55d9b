from django.contrib import admin

from closedloop.campaigns.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "channel", "starts_on", "ends_on", "cost", "owner")
    list_filter = ("type", "channel")
    search_fields = ("name", "audience", "message")
    raw_id_fields = ("owner",)
