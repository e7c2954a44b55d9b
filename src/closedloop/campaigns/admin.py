from django.contrib import admin

from closedloop.campaigns import services
from closedloop.campaigns.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "channel", "starts_on", "ends_on", "cost", "currency", "owner")
    list_filter = ("type", "channel")
    search_fields = ("name", "audience", "message")
    raw_id_fields = ("owner",)

    def save_model(self, request, obj, form, change):
        # Every door writes through the service, the admin too.
        data = form.cleaned_data
        if change:
            changed = {n: data[n] for n in form.changed_data if n in services.EDITABLE}
            services.update_campaign(Campaign.objects.get(pk=obj.pk), by=request.user, **changed)
        else:
            values = {n: data[n] for n in services.EDITABLE if n in data}
            obj.pk = services.create_campaign(by=request.user, **values).pk
