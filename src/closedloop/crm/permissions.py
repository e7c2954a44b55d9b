"""Which accounts and opportunities a user may see: derived from the lead rule in
`core.permissions` (DESIGN.md: a rep sees their own and their team's records)."""

from __future__ import annotations

from django.db.models import Q

from closedloop.core.models import User
from closedloop.core.permissions import lead_visibility, visible
from closedloop.crm.models import Lead


def account_visibility(user: User) -> Q | None:
    """Accounts: all for the read-all roles; for sales, those they own or have visible leads in."""
    rule = lead_visibility(user)
    if rule is None:
        return None
    team = Q(owner__team_id=user.team_id) if user.team_id else Q(owner=user)
    return team | Q(leads__in=_lead_ids(user))


def opportunity_visibility(user: User) -> Q | None:
    if user.sees_all_leads:
        return None
    if user.team_id is None:
        return Q(owner=user)
    return Q(owner__team_id=user.team_id)


def _lead_ids(user: User):
    return visible(Lead.objects.all(), user).values("id")
