from django.contrib import admin

from closedloop.crm.models import (
    Account,
    Activity,
    Lead,
    Opportunity,
    OpportunityContact,
    StageChange,
)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "industry", "employees", "country", "owner")
    list_filter = ("industry", "country")
    search_fields = ("name", "domain", "external_id")
    raw_id_fields = ("owner",)


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fk_name = "lead"
    extra = 0
    readonly_fields = ("from_stage", "to_stage", "at", "by", "reason", "rule_version")
    can_delete = False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "email",
        "company",
        "lifecycle_stage",
        "status",
        "owner",
        "score",
        "created_at",
    )
    list_filter = ("lifecycle_stage", "status", "source", "fit_grade")
    search_fields = ("email", "first_name", "last_name", "company", "external_id")
    raw_id_fields = ("owner", "account", "original_campaign")
    # Stage changes go through the StageChange history; the admin shows it, it does not edit it.
    readonly_fields = ("lifecycle_stage", "score_reasons", "scored_at", "version")
    inlines = [StageChangeInline]
    show_full_result_count = False  # COUNT(*) over a million rows on every page is not worth it


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ("lead", "from_stage", "to_stage", "at", "by", "rule_version")
    list_filter = ("to_stage",)
    raw_id_fields = ("lead", "by")
    show_full_result_count = False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("lead", "rep", "kind", "outcome", "at")
    list_filter = ("kind", "outcome")
    raw_id_fields = ("lead", "rep")
    show_full_result_count = False


class OpportunityContactInline(admin.TabularInline):
    model = OpportunityContact
    extra = 0
    raw_id_fields = ("lead",)


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "amount", "stage", "close_date", "owner", "lost_reason")
    list_filter = ("stage", "lost_reason")
    search_fields = ("name", "account__name", "external_id")
    raw_id_fields = ("account", "owner", "campaign")
    inlines = [OpportunityContactInline]
