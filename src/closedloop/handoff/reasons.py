"""The managed list of rejection reasons, changed by admins from Settings (audited: the model
is `Audited`). A reason in use is deactivated, never deleted: past rejections keep it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from closedloop.core.models import Role, User
from closedloop.handoff.models import RejectionPath, RejectionReason

MAX_RECYCLE_DAYS = 730


def _days(raw) -> int:
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"recycle_days": "a whole number of days"}) from None
    if not 1 <= days <= MAX_RECYCLE_DAYS:
        raise ValidationError({"recycle_days": f"between 1 and {MAX_RECYCLE_DAYS} days"})
    return days


@transaction.atomic
def save_rejection_reason(
    *,
    by: User,
    label: str,
    path: str,
    recycle_days=90,
    is_active: bool = True,
    reason: RejectionReason | None = None,
) -> RejectionReason:
    """Add a reason (its code made from the label) or change `reason`. The path decides what
    rejecting with it does; recycle_days is the "not now" default re-entry."""
    if by.role != Role.ADMIN:
        raise PermissionDenied("only admins change the rejection reasons")
    label = (label or "").strip()[:100]
    if not label:
        raise ValidationError({"label": "a reason needs a label"})
    if path not in RejectionPath.values:
        raise ValidationError({"path": f"must be one of {', '.join(RejectionPath.values)}"})
    reason = reason or RejectionReason(code=_free_code(label), position=_next_position())
    reason.label, reason.path, reason.is_active = label, path, is_active
    reason.recycle_days = _days(recycle_days)
    reason.save()
    return reason


def _free_code(label: str) -> str:
    base = slugify(label)[:34] or "reason"
    code, n = base, 1
    while RejectionReason.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _next_position() -> int:
    last = RejectionReason.objects.order_by("-position").values_list("position", flat=True)
    return (last.first() or 0) + 1
