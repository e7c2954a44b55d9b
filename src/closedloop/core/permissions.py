"""Who may see and change what. Every view and API endpoint asks these functions.

DESIGN.md: a rep sees their own and their team's leads; marketing sees all leads but cannot
reassign owners; managers reassign within their team; executives read everything; admins do all.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from closedloop.core.models import Role, User


def lead_visibility(user: User) -> Q | None:
    """A filter on Lead for what `user` may see; None means everything."""
    if user.sees_all_leads:
        return None
    if user.team_id is None:
        return Q(owner=user)
    if user.role == Role.MANAGER:
        # Managers also see the unassigned queue, which they hand out.
        return Q(owner__team_id=user.team_id) | Q(owner__isnull=True)
    return Q(owner__team_id=user.team_id)


def visible(queryset: QuerySet, user: User, *, via: str = "") -> QuerySet:
    """Restrict a queryset of leads (or of rows reached from a lead through `via`, e.g. 'lead')."""
    rule = lead_visibility(user)
    if rule is None:
        return queryset
    if via:
        rule = _prefix(rule, via)
    return queryset.filter(rule)


def _prefix(rule: Q, via: str) -> Q:
    prefixed = Q()
    prefixed.connector, prefixed.negated = rule.connector, rule.negated
    for child in rule.children:
        if isinstance(child, Q):
            prefixed.children.append(_prefix(child, via))
        else:
            key, value = child
            prefixed.children.append((f"{via}__{key}", value))
    return prefixed


def require_write(user: User) -> None:
    if not user.can_write:
        raise PermissionDenied("executives have read-only access")


def check_can_assign(user: User, *, new_owner: User | None) -> None:
    """Raise PermissionDenied unless `user` may give a lead to `new_owner`."""
    if user.role == Role.ADMIN:
        return
    if user.role != Role.MANAGER:
        raise PermissionDenied("only managers and admins can reassign leads")
    if new_owner is not None and new_owner.team_id != user.team_id:
        raise PermissionDenied("managers reassign within their own team")
