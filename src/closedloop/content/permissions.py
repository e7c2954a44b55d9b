"""Who may see and change what in the content library.

Reps and managers see published assets and their own personal uploads; marketing, admins and
executives see everything (executives read only). Only marketing and admins publish, retire
and edit the library's assets; a rep edits only their own personal uploads.

`None` as the user is the system (the command line run by the operator, the demo): it may do
everything.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from closedloop.content.models import AssetStatus, ContentAsset
from closedloop.core.models import Role, User

_SEES_ALL = {Role.ADMIN, Role.MARKETING, Role.EXECUTIVE}
_CURATES = {Role.ADMIN, Role.MARKETING}


def sees_all(user: User | None) -> bool:
    return user is None or user.role in _SEES_ALL


def curates(user: User | None) -> bool:
    """True for the people who run the library: they publish, retire and edit any asset."""
    return user is None or user.role in _CURATES


def can_write(user: User | None) -> bool:
    return user is None or user.can_write


def asset_visibility(user: User | None) -> Q | None:
    """A filter on ContentAsset for what `user` may see; None means everything."""
    if sees_all(user):
        return None
    return Q(status=AssetStatus.PUBLISHED, personal=False) | Q(personal=True, owner=user)


def visible_assets(user: User | None, queryset: QuerySet[ContentAsset] | None = None) -> QuerySet:
    queryset = ContentAsset.objects.all() if queryset is None else queryset
    rule = asset_visibility(user)
    return queryset if rule is None else queryset.filter(rule)


def may_edit(user: User | None, asset: ContentAsset) -> bool:
    if curates(user):
        return True
    return asset.personal and asset.owner_id == getattr(user, "pk", None) and can_write(user)


def check_edit(user: User | None, asset: ContentAsset) -> None:
    if not may_edit(user, asset):
        raise PermissionDenied("only marketing edits the library's assets")


def check_curate(user: User | None) -> None:
    if not curates(user):
        raise PermissionDenied("only marketing publishes and retires assets")
