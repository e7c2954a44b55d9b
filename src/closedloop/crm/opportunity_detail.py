"""The sections of a deal's page beyond its own fields: contacts with their roles, the work
logged with those contacts, and the stage history. Each is one bounded query, so the page's
cost does not grow with the deal's history."""

from __future__ import annotations

from django.db.models import QuerySet

from closedloop.core.models import User
from closedloop.crm.models import Activity, Opportunity, OpportunityContact

CONTACTS_LIMIT = 50
ACTIVITIES_LIMIT = 20
HISTORY_LIMIT = 50


def deal_sections(deal: Opportunity, user: User) -> dict:
    """{"contacts": [...], "activities": [...], "history": [...]} for `deal`."""
    contacts = list(
        OpportunityContact.objects.filter(opportunity=deal)
        .select_related("lead")
        .order_by("role", "id")[:CONTACTS_LIMIT]
    )
    lead_ids = [contact.lead_id for contact in contacts]
    return {
        "contacts": contacts,
        "activities": list(contact_activities(lead_ids)[:ACTIVITIES_LIMIT]) if lead_ids else [],
        "history": stage_history(deal),
    }


def contact_activities(lead_ids: list[int]) -> QuerySet[Activity]:
    """The calls, e-mails, meetings and notes logged with these leads, newest first."""
    return (
        Activity.objects.filter(lead_id__in=lead_ids)
        .select_related("rep", "lead")
        .order_by("-at", "-id")
    )


def stage_history(deal: Opportunity) -> list:
    """The deal's stage moves, newest first (none until opportunities keep a stage history)."""
    return []
