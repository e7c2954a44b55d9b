"""Admin for what admins manage by hand: rejection reasons, routing, team calendars; the logs
(assignments, rejections, disputes, breaches) are shown read-only."""

from django.contrib import admin

from closedloop.handoff.models import (
    Assignment,
    Dispute,
    Escalation,
    Holiday,
    Rejection,
    RejectionReason,
    RoutingMember,
    RoutingRule,
    SlaBreach,
    TeamCalendar,
)


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "path", "recycle_days", "is_active", "position")
    list_editable = ("is_active", "position")
    list_filter = ("path", "is_active")
    prepopulated_fields = {"code": ("label",)}


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(TeamCalendar)
class TeamCalendarAdmin(admin.ModelAdmin):
    list_display = ("team", "work_start", "work_end", "workdays", "escalation_webhook_url")
    inlines = [HolidayInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("position", "name", "is_active", "team", "rep", "conditions")
    list_display_links = ("name",)
    list_editable = ("position", "is_active")
    raw_id_fields = ("rep",)


@admin.register(RoutingMember)
class RoutingMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "weight", "capacity", "period", "assigned_in_period", "assigned_total")
    list_editable = ("weight", "capacity", "period")
    readonly_fields = ("assigned_in_period", "assigned_total", "period_start")
    raw_id_fields = ("user",)


class ReadOnlyAdmin(admin.ModelAdmin):
    # Logs are written by the services; editing them here would falsify the record.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("lead", "from_owner", "to_owner", "rule", "reason", "by", "at")
    list_filter = ("rule",)
    show_full_result_count = False


@admin.register(Rejection)
class RejectionAdmin(ReadOnlyAdmin):
    list_display = ("lead", "reason", "rep", "campaign", "source", "at", "resolved_at")
    list_filter = ("reason", "source")


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("lead", "claimant", "owner", "status", "decided_by", "decided_at")
    list_filter = ("status",)


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdmin):
    list_display = ("lead", "kind", "rep", "team", "due", "breached_at")
    list_filter = ("kind",)


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = (
        "breach",
        "channel",
        "target",
        "status",
        "attempts",
        "sent_at",
        "last_error",
        "delivery",
    )
    list_filter = ("channel", "status")
