"""The Django admin for the revenue record. Saves go through the crm services, like every other
door, so the admin keeps the same rules (close fields, owners, stage history) and fires the same
events (`opportunity_won`, `opportunity_lost`, `lead_stage_changed`, `lead_became_mql`)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from closedloop.crm import services
from closedloop.crm.models import (
    ENTERED_FIELDS,
    Account,
    Activity,
    Lead,
    LifecycleStage,
    Opportunity,
    OpportunityContact,
    OpportunityStageChange,
    StageChange,
)


def _values(form, obj) -> dict:
    """The model fields the admin form edited, with their new values (objects for relations)."""
    names = {f.name for f in obj._meta.concrete_fields}
    return {name: getattr(obj, name) for name in form.cleaned_data if name in names}


def _changes(form, obj) -> dict:
    values = _values(form, obj)
    return {name: values[name] for name in form.changed_data if name in values}


def _adopt(obj, saved) -> None:
    """Make the admin's instance the row a service saved (the admin goes on with `obj`)."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


class ServiceAdmin(admin.ModelAdmin):
    """save_model through `create` / `update` services; the form's values are not saved raw."""

    readonly_fields: tuple[str, ...] = ("version",)

    def save_model(self, request, obj, form, change):
        if change:
            fresh = type(obj).objects.get(pk=obj.pk)
            saved = self.update(fresh, by=request.user, changes=_changes(form, obj), form=form)
        else:
            saved = self.create(by=request.user, fields=_values(form, obj), form=form)
        _adopt(obj, saved)

    def delete_model(self, request, obj):
        self.delete(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete(obj, by=request.user)

    def create(self, *, by, fields, form):
        raise NotImplementedError

    def update(self, instance, *, by, changes, form):
        raise NotImplementedError

    def delete(self, instance, *, by):
        raise NotImplementedError


@admin.register(Account)
class AccountAdmin(ServiceAdmin):
    list_display = ("name", "domain", "industry", "employees", "country", "owner")
    list_filter = ("industry", "country")
    search_fields = ("name", "domain", "external_id")
    raw_id_fields = ("owner",)

    def create(self, *, by, fields, form):
        return services.create_account(by=by, fields=fields)

    def update(self, instance, *, by, changes, form):
        return services.update_account(instance, by=by, changes=changes)

    def delete(self, instance, *, by):
        services.delete_account(instance, by=by)


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fk_name = "lead"
    extra = 0
    readonly_fields = ("from_stage", "to_stage", "at", "by", "reason", "rule_version")
    can_delete = False


class LeadAdminForm(forms.ModelForm):
    """The stage is not a plain field: a move is asked for here and made by change_stage."""

    move_to = forms.ChoiceField(
        choices=[("", "— keep the stage —"), *LifecycleStage.choices],
        required=False,
        label="Move to stage",
    )
    stage_reason = forms.CharField(
        max_length=300, required=False, label="Why (kept in the stage history)"
    )
    override_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Override the lifecycle because…",
        help_text="Only for a move the contract's lifecycle does not allow; audited.",
    )

    class Meta:
        model = Lead
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin picks the fields it shows)

    def clean(self):
        data = super().clean()
        if self.instance.pk and data.get("move_to"):
            try:  # the admin is an admin (core.admin_site): only the reason can be missing
                services.check_stage_move(
                    self.instance,
                    to=data["move_to"],
                    by=self.admin_user,
                    override_reason=data.get("override_reason", ""),
                )
            except ValidationError as exc:
                self.add_error("move_to", exc.message_dict["lifecycle_stage"])
        return data


@admin.register(Lead)
class LeadAdmin(ServiceAdmin):
    form = LeadAdminForm
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
    # Stage changes go through change_stage (the "Move to stage" field), never a raw edit; so
    # do the stage timestamps it keeps.
    readonly_fields = (
        "lifecycle_stage",
        *ENTERED_FIELDS,
        "score_reasons",
        "scored_at",
        "version",
    )
    inlines = [StageChangeInline]
    show_full_result_count = False  # COUNT(*) over a million rows on every page is not worth it

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.admin_user = request.user
        return form

    def create(self, *, by, fields, form):
        stage = form.cleaned_data.get("move_to") or LifecycleStage.LEAD
        reason = form.cleaned_data.get("stage_reason") or "created in the admin"
        return services.create_lead(by=by, fields=fields, stage=stage, reason=reason)

    def update(self, instance, *, by, changes, form):
        return services.update_lead(
            instance,
            by=by,
            changes=changes,
            stage=form.cleaned_data.get("move_to") or None,
            reason=form.cleaned_data.get("stage_reason") or "changed in the admin",
            override_reason=form.cleaned_data.get("override_reason") or "",
        )

    def delete(self, instance, *, by):
        services.delete_lead(instance, by=by)


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


class OpportunityStageChangeInline(admin.TabularInline):
    model = OpportunityStageChange
    extra = 0
    fields = readonly_fields = ("from_stage", "to_stage", "at", "by", "reason")
    can_delete = False


def _reason_choices(outcome: str) -> list[tuple[str, str]]:
    return [("", "—"), *((r.code, r.label) for r in services.close_reasons(outcome))]


class OpportunityAdminForm(forms.ModelForm):
    """Stages and reasons come from the contract's pipeline and the managed lists; a close
    needs its reason and a note, a reopen a reason (the services check; the form says it)."""

    reopen_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Reopen this closed deal because…",
        help_text="Only to move a closed deal back to an open stage; audited.",
    )

    class Meta:
        model = Opportunity
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin picks the fields it shows)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stages = [(s.code, s.label) for s in services.pipeline_stages()]
        self.fields["stage"] = forms.ChoiceField(choices=stages)
        self.fields["won_reason"] = forms.ChoiceField(
            choices=_reason_choices("won"), required=False
        )
        self.fields["lost_reason"] = forms.ChoiceField(
            choices=_reason_choices("lost") + self._kept_reason(), required=False
        )

    def _kept_reason(self) -> list[tuple[str, str]]:
        # A deal closed for a reason since deactivated keeps it.
        kept = self.instance.lost_reason if self.instance.pk else ""
        active = {r.code for r in services.close_reasons("lost")}
        return [(kept, kept)] if kept and kept not in active else []

    def clean(self):
        data = super().clean()
        try:
            self._check(data)
        except ValidationError as exc:
            self.add_error(None, exc)
        return data

    def _check(self, data) -> None:
        stage, was = data.get("stage", ""), self.instance.stage if self.instance.pk else ""
        if self.instance.pk and self.instance.is_closed and stage != was:
            if not data.get("reopen_reason", "").strip():
                raise ValidationError({"reopen_reason": "reopening a closed deal needs a reason"})
        elif stage in services.CLOSED and stage != was and self.instance.pk:
            services.check_close(
                won=stage == "won",
                reason=data.get(f"{stage}_reason", ""),
                note=data.get("close_note", ""),
            )
        services.check_lost_reason(stage=stage, lost_reason=data.get("lost_reason", ""))


@admin.register(Opportunity)
class OpportunityAdmin(ServiceAdmin):
    form = OpportunityAdminForm
    list_display = ("name", "account", "amount", "currency", "stage", "close_date", "owner")
    list_filter = ("stage", "lost_reason", "won_reason")
    search_fields = ("name", "account__name", "external_id")
    raw_id_fields = ("account", "owner", "campaign")
    # closed_at and the days in stage follow the stage (services)
    readonly_fields = ("closed_at", "stage_entered_at", "version")
    inlines = [OpportunityContactInline, OpportunityStageChangeInline]

    def create(self, *, by, fields, form):
        return services.create_opportunity(by=by, fields=fields)

    def update(self, instance, *, by, changes, form):
        reopen = form.cleaned_data.get("reopen_reason", "").strip()
        if instance.is_closed and changes.get("stage", instance.stage) != instance.stage:
            to = changes.pop("stage")
            changes = {k: v for k, v in changes.items() if k not in services.CLOSE_FIELDS}
            instance = services.reopen_opportunity(instance, by=by, reason=reopen, to=to)
        return services.update_opportunity(instance, by=by, changes=changes)

    def delete(self, instance, *, by):
        services.delete_opportunity(instance, by=by)
