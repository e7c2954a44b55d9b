"""The privacy actions on the admin's lead list: export or erase the selected people."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import HttpResponse

from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource
from closedloop.crm.models import Lead
from closedloop.privacy import services


def _emails(queryset) -> list[str]:
    emails = {email.strip().lower() for email in queryset.values_list("email", flat=True)}
    return sorted(email for email in emails if email)


@admin.action(description="Export the personal data of the selected people (JSON)")
def export_people(modeladmin, request, queryset):
    documents = [services.export_person(email=email) for email in _emails(queryset)]
    response = HttpResponse(
        json.dumps(documents, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
    return response


@admin.action(description="Erase the personal data of the selected people (cannot be undone)")
def erase_people(modeladmin, request, queryset):
    emails = _emails(queryset)
    with acting_as(request.user, AuditSource.UI):
        for email in emails:
            services.erase_person(email=email)
    modeladmin.message_user(
        request, f"Erased the personal data of {len(emails)} people.", messages.SUCCESS
    )


def install(site: admin.AdminSite) -> None:
    """Add the two actions to the lead admin (crm does not depend on privacy)."""
    model_admin = site.get_model_admin(Lead)
    model_admin.actions = (*(model_admin.actions or ()), export_people, erase_people)
