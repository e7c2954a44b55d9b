"""Which accounts and opportunities a user may see: derived from the lead rule in
`core.permissions` (DESIGN.md: a rep sees their own and their team's records)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from closedloop.core.models import Role, User
from closedloop.core.permissions import lead_visibility, visible
from closedloop.crm.models import Account, Lead, Opportunity


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


def visible_opportunities(user: User) -> QuerySet[Opportunity]:
    """The opportunities `user` may see (a record outside it is a 404 on every page)."""
    rule = opportunity_visibility(user)
    return Opportunity.objects.all() if rule is None else Opportunity.objects.filter(rule)


def visible_accounts(user: User) -> QuerySet[Account]:
    """The accounts `user` may see, each once (the rule joins leads, so filter by id)."""
    rule = account_visibility(user)
    if rule is None:
        return Account.objects.all()
    return Account.objects.filter(pk__in=Account.objects.filter(rule).values("pk"))


def can_work_opportunity(user: User, opportunity: Opportunity) -> bool:
    """Edit, move or close a deal from the pages: its owner (a rep), a manager of the owner's
    team, or an admin; the same rule as working a lead (handoff.permissions)."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.REP:
        return opportunity.owner_id == user.pk
    if user.role == Role.MANAGER and opportunity.owner is not None and user.team_id:
        return opportunity.owner.team_id == user.team_id
    return False


def check_can_work_opportunity(user: User, opportunity: Opportunity) -> None:
    if not can_work_opportunity(user, opportunity):
        raise PermissionDenied("only the deal's owner, their manager or an admin may change it")
