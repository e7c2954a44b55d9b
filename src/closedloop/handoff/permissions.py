"""Who may work, claim and reassign which lead: the handoff's questions, built on core's rules."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from closedloop.core.models import Role, User
from closedloop.core.permissions import check_can_assign
from closedloop.crm.models import Lead


def check_can_work_lead(user: User, lead: Lead) -> None:
    """Accept, reject or log work: the owner, their team's manager, or an admin."""
    if user.role == Role.ADMIN:
        return
    if user.role == Role.REP and lead.owner_id == user.pk:
        return
    if user.role == Role.MANAGER and lead.owner_id and lead.owner.team_id == user.team_id:
        return
    if user.role == Role.REP:
        raise PermissionDenied("a rep can only work their own leads")
    raise PermissionDenied(f"the {user.get_role_display().lower()} role cannot work leads")


def check_can_reassign_lead(user: User, lead: Lead, *, new_owner: User | None) -> None:
    """Managers move leads within their team (from a teammate or the unassigned queue)."""
    check_can_assign(user, new_owner=new_owner)
    if user.role == Role.MANAGER and lead.owner_id and lead.owner.team_id != user.team_id:
        raise PermissionDenied(f"lead {lead.pk} belongs to another team")


def check_can_claim(user: User, lead: Lead) -> None:
    if user.role != Role.REP:
        raise PermissionDenied("only reps claim leads; managers reassign them")
    if lead.owner_id and lead.owner.team_id != user.team_id:
        raise PermissionDenied("a rep can only claim leads of their own team")


def check_can_decide_dispute(user: User, *, claimant: User) -> None:
    if user.role == Role.ADMIN:
        return
    if user.role != Role.MANAGER or claimant.team_id != user.team_id:
        raise PermissionDenied("a dispute is decided by the manager of the claimant's team")
