"""The sections of a deal's page beyond its own fields: contacts with their roles, the work
logged with those contacts, and the stage history. Each is one bounded query, so the page's
cost does not grow with the deal's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from closedloop.core.models import User
from closedloop.crm.models import Activity, CloseReason, Opportunity, OpportunityContact
from closedloop.pipeline import LOST, WON

CONTACTS_LIMIT = 50
ACTIVITIES_LIMIT = 20
HISTORY_LIMIT = 50


def deal_sections(deal: Opportunity, user: User, *, labels: dict[str, str]) -> dict:
    """{"contacts", "activities", "history", "close_reason"} for `deal`; `labels` name the
    pipeline's stages ({code: label})."""
    contacts = list(
        OpportunityContact.objects.filter(opportunity=deal)
        .select_related("lead")
        .order_by("role", "id")[:CONTACTS_LIMIT]
    )
    lead_ids = [contact.lead_id for contact in contacts]
    return {
        "contacts": contacts,
        "activities": list(contact_activities(lead_ids)[:ACTIVITIES_LIMIT]) if lead_ids else [],
        "history": stage_history(deal, labels),
        "close_reason": close_reason_label(deal),
    }


def contact_activities(lead_ids: list[int]) -> QuerySet[Activity]:
    """The calls, e-mails, meetings and notes logged with these leads, newest first."""
    return (
        Activity.objects.filter(lead_id__in=lead_ids)
        .select_related("rep", "lead")
        .order_by("-at", "-id")
    )


@dataclass(frozen=True)
class Move:
    at: datetime
    from_label: str
    to_label: str
    by: User | None
    reason: str


def stage_history(deal: Opportunity, labels: dict[str, str]) -> list[Move]:
    """The deal's stage moves, newest first, with the stages' labels (the newest 50)."""
    changes = deal.stage_changes.select_related("by").order_by("-at", "-id")[:HISTORY_LIMIT]
    return [
        Move(
            c.at,
            labels.get(c.from_stage, c.from_stage),
            labels.get(c.to_stage, c.to_stage),
            c.by,
            c.reason,
        )
        for c in changes
    ]


def close_reason_label(deal: Opportunity) -> str:
    """The words of a closed deal's reason ("" for an open deal)."""
    outcome, code = (WON, deal.won_reason) if deal.stage == WON else (LOST, deal.lost_reason)
    if not deal.is_closed or not code:
        return ""
    found = CloseReason.objects.filter(outcome=outcome, code=code).first()
    return found.label if found else code
