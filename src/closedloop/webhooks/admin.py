from django.contrib import admin

from closedloop.webhooks.models import AllowedHost, Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "description", "is_active", "created_at")
    list_filter = ("is_active",)
    raw_id_fields = ("created_by",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "endpoint", "url", "status", "attempts", "response_code", "created_at")
    list_filter = ("status", "event")
    raw_id_fields = ("endpoint",)
    show_full_result_count = False


@admin.register(AllowedHost)
class AllowedHostAdmin(admin.ModelAdmin):
    list_display = ("host", "note", "created_by", "created_at")
    raw_id_fields = ("created_by",)
