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


def check_can_work_opportunity(user: User, opportunity: Opportunity) -> None:
    """Moving, closing or reopening a deal: its owner, their team's manager, or an admin
    (PermissionDenied otherwise; a deal the user cannot see is the door's 404)."""
    if user.role == Role.ADMIN:
        return
    if user.role == Role.REP and opportunity.owner_id == user.pk:
        return
    owner = opportunity.owner
    if user.role == Role.MANAGER and owner is not None and owner.team_id == user.team_id:
        return
    if user.role == Role.REP:
        raise PermissionDenied("a rep moves and closes their own deals only")
    raise PermissionDenied(f"the {user.get_role_display().lower()} role cannot move deals")


def can_work_opportunity(user: User, opportunity: Opportunity) -> bool:
    """Whether `user` may move, close or edit the deal (`check_can_work_opportunity`)."""
    try:
        check_can_work_opportunity(user, opportunity)
    except PermissionDenied:
        return False
    return True
