"""A person's right to a copy and to erasure: `export_person` and `erase_person`.

A person is every lead with the given email. Erasure blanks their personal fields everywhere the
revenue record keeps them. The rows stay, so the stage history, touches, funnel counts, scores
and attribution keep adding up; only who they were goes. Identities, login attempts and other
rows that exist only to name them are deleted. Free text elsewhere (notifications, webhook
payloads, import errors, the audit log's values and uploaded import files) is searched for the
person's identifying strings, which are overwritten. The erasure itself is audited with counts
only (docs/decisions/0014-privacy-backups-retention.md).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.forms.models import model_to_dict

from closedloop.core.audit import current_actor
from closedloop.core.db import vendor
from closedloop.core.models import AuditAction, AuditEntry
from closedloop.crm.models import Activity, Lead, OpportunityContact, StageChange
from closedloop.engagement.models import Identity, IdentityKind, Touchpoint
from closedloop.handoff.models import (
    Acceptance,
    Assignment,
    Dispute,
    Notification,
    Rejection,
    SlaBreach,
)
from closedloop.imports.models import RowError
from closedloop.webhooks.models import Delivery

ERASED = "[erased]"
# Personal fields of a lead, blanked by erasure; firmographics that only count (industry,
# employees, country) stay for the aggregates.
LEAD_FIELDS = (
    "first_name", "last_name", "email", "phone", "title", "seniority", "company", "city",
    "external_id",
)  # fmt: skip
_MIN_NEEDLE = 3


class PersonNotFound(LookupError):
    """No lead has this email."""


def _leads(email: str) -> list[Lead]:
    email = (email or "").strip()
    leads = list(Lead.objects.filter(email__iexact=email)) if email else []
    if not leads:
        raise PersonNotFound(f"no lead has the email {email!r}")
    return leads


def _anonymous_ids(lead_ids: list[int]) -> list[str]:
    rows = Identity.objects.filter(lead_id__in=lead_ids, kind=IdentityKind.ANONYMOUS)
    return list(rows.values_list("value", flat=True))


def _needles(leads: list[Lead]) -> list[str]:
    """The strings that identify the person, longest first (so a name inside an email goes too)."""
    found: set[str] = set()
    for lead in leads:
        full_name = f"{lead.first_name} {lead.last_name}".strip()
        found.update([lead.email, lead.phone, lead.external_id, full_name])
        found.update([lead.first_name, lead.last_name])
    identities = Identity.objects.filter(lead__in=leads).values_list("value", "user_id")
    for value, user_id in identities:
        found.update([value, user_id])
    return sorted((n for n in found if n and len(n) >= _MIN_NEEDLE), key=len, reverse=True)


# --- export -----------------------------------------------------------------------------------


def export_person(*, email: str) -> dict:
    """Everything held about the person with this email, as one JSON-ready document."""
    leads = _leads(email)
    ids = [lead.pk for lead in leads]
    anonymous = _anonymous_ids(ids)
    document = {
        "email": email,
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "leads": [model_to_dict(lead) for lead in leads],
        "touchpoints": _rows(Touchpoint.objects.filter(Q(lead_id__in=ids) | _anon(anonymous))),
        "identities": _rows(Identity.objects.filter(lead_id__in=ids)),
        "stage_changes": _rows(StageChange.objects.filter(lead_id__in=ids)),
        "activities": _rows(Activity.objects.filter(lead_id__in=ids)),
        "opportunity_roles": _rows(OpportunityContact.objects.filter(lead_id__in=ids)),
        "assignments": _rows(Assignment.objects.filter(lead_id__in=ids)),
        "acceptances": _rows(Acceptance.objects.filter(lead_id__in=ids)),
        "rejections": _rows(Rejection.objects.filter(lead_id__in=ids)),
        "disputes": _rows(Dispute.objects.filter(lead_id__in=ids)),
        "sla_breaches": _rows(SlaBreach.objects.filter(lead_id__in=ids)),
        "notifications": _rows(Notification.objects.filter(lead_id__in=ids)),
        "audit_entries": _rows(_audit_entries(leads)),
        "webhook_deliveries": _rows(_mentioning(Delivery, "payload", _needles(leads))),
        "import_row_errors": _rows(_mentioning(RowError, "value", _needles(leads))),
    }
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def _anon(anonymous: list[str]) -> Q:
    return Q(anonymous_id__in=anonymous) if anonymous else Q(pk__in=[])


def _rows(queryset) -> list[dict]:
    return [model_to_dict(row) | {"id": row.pk} for row in queryset.order_by("pk")]


def _mentioning(model, field: str, needles: Iterable[str]):
    """Rows of `model` whose `field` (text or JSON) contains any needle, ignoring case."""
    condition = Q(pk__in=[])
    for needle in needles:
        condition |= Q(_text__icontains=needle) | Q(_text__icontains=_json_escaped(needle))
    return model.objects.annotate(_text=Cast(field, TextField())).filter(condition)


def _json_escaped(needle: str) -> str:
    return json.dumps(needle)[1:-1]


def _object_keys(leads: list[Lead]) -> Q:
    ids = [lead.pk for lead in leads]
    keys = {
        "crm.lead": ids,
        "crm.activity": Activity.objects.filter(lead_id__in=ids).values_list("pk", flat=True),
        "handoff.rejection": Rejection.objects.filter(lead_id__in=ids).values_list("pk", flat=True),
        "handoff.dispute": Dispute.objects.filter(lead_id__in=ids).values_list("pk", flat=True),
    }
    condition = Q(pk__in=[])
    for model, pks in keys.items():
        condition |= Q(model=model, object_id__in=[str(pk) for pk in pks])
    return condition


def _audit_entries(leads: list[Lead]):
    needles = _needles(leads)
    mentioned = _mentioning(AuditEntry, "changes", needles).values_list("pk", flat=True)
    named = Q(pk__in=[])
    for needle in needles:
        named |= Q(object_repr__icontains=needle)
    return AuditEntry.objects.filter(_object_keys(leads) | Q(pk__in=list(mentioned)) | named)


# --- erasure ----------------------------------------------------------------------------------


def erase_person(*, email: str) -> dict:
    """Erase the personal data of the person with this email; returns what was touched (counts).

    One transaction. On SQLite the freed bytes are zeroed (secure_delete) and the WAL is
    checkpointed, so the old values do not linger in the database files either.
    """
    leads = _leads(email)
    needles = _needles(leads)
    with _secure_delete(), transaction.atomic():
        counts = _erase_rows(leads, needles)
        counts["audit_entries"] = _scrub_audit(leads, needles)
        counts["files"] = _scrub_uploads(needles)
        _record(counts)
    _checkpoint()
    return counts


def _erase_rows(leads: list[Lead], needles: list[str]) -> dict:
    ids = [lead.pk for lead in leads]
    anonymous = _anonymous_ids(ids)
    blank = dict.fromkeys(LEAD_FIELDS, "")
    counts = {"leads": Lead.objects.filter(pk__in=ids).update(**blank, score_reasons=[])}
    touches = Touchpoint.objects.filter(Q(lead_id__in=ids) | _anon(anonymous))
    counts["touchpoints"] = touches.update(properties={}, anonymous_id="")
    counts["identities"] = Identity.objects.filter(
        Q(lead_id__in=ids) | _user_ids(needles)
    ).delete()[0]
    counts["activities"] = Activity.objects.filter(lead_id__in=ids).update(notes="")
    counts["stage_changes"] = StageChange.objects.filter(lead_id__in=ids).update(reason="")
    counts["assignments"] = Assignment.objects.filter(lead_id__in=ids).update(reason="")
    counts["rejections"] = Rejection.objects.filter(lead_id__in=ids).update(note="")
    counts["disputes"] = Dispute.objects.filter(lead_id__in=ids).update(
        reason=ERASED, decision_note=""
    )
    counts["notifications"] = _scrub_text(Notification, "text", needles)
    counts["import_row_errors"] = _mentioning(RowError, "value", needles).update(value=ERASED)
    counts["webhook_deliveries"] = _scrub_json(Delivery, "payload", needles)
    counts["login_attempts"] = _forget_logins(needles)
    return counts


def _user_ids(needles: list[str]) -> Q:
    return Q(user_id__in=needles) if needles else Q(pk__in=[])


def _scrub(value, needles: list[str]):
    """`value` with every needle (any case) replaced, inside strings, lists and dicts."""
    if isinstance(value, str):
        lowered = value.lower()
        for needle in needles:
            at = lowered.find(needle.lower())
            while at >= 0:
                value = value[:at] + ERASED + value[at + len(needle) :]
                lowered = value.lower()
                at = lowered.find(needle.lower(), at + len(ERASED))
        return value
    if isinstance(value, list):
        return [_scrub(item, needles) for item in value]
    if isinstance(value, dict):
        return {_scrub(k, needles): _scrub(v, needles) for k, v in value.items()}
    return value


def _scrub_text(model, field: str, needles: list[str]) -> int:
    rows = list(_mentioning(model, field, needles).values_list("pk", field))
    for pk, text in rows:
        model.objects.filter(pk=pk).update(**{field: _scrub(text, needles)})
    return len(rows)


def _scrub_json(model, field: str, needles: list[str]) -> int:
    return _scrub_text(model, field, needles)


def _scrub_audit(leads: list[Lead], needles: list[str]) -> int:
    # The audit log is append-only for the application; erasure is the one sanctioned rewrite,
    # and it rewrites values only: who did what, when, to which row, stays.
    entries = list(_audit_entries(leads).values_list("pk", "object_repr", "changes"))
    lead_keys = {str(lead.pk) for lead in leads}
    for pk, object_repr, changes in entries:
        changes = _erase_personal_fields(changes)
        AuditEntry.objects.filter(pk=pk).update(
            object_repr=_scrub(object_repr, needles), changes=_scrub(changes, needles)
        )
    AuditEntry.objects.filter(model="crm.lead", object_id__in=lead_keys).update(object_repr=ERASED)
    return len(entries)


def _erase_personal_fields(changes):
    if not isinstance(changes, dict):
        return changes
    personal = set(LEAD_FIELDS) | {"notes", "note", "reason", "properties", "decision_note"}
    return {
        name: ([ERASED if v not in (None, "") else v for v in value] if name in personal else value)
        if isinstance(value, list)
        else value
        for name, value in changes.items()
    }


def _forget_logins(needles: list[str]) -> int:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    removed = 0
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        condition = Q(pk__in=[])
        for needle in needles:
            condition |= Q(username__iexact=needle)
        removed += model.objects.filter(condition).delete()[0]
    return removed


def _scrub_uploads(needles: list[str]) -> int:
    """Overwrite the needles in uploaded import files with as many '*' bytes.

    The same length keeps every byte offset valid, so an interrupted import still resumes.
    """
    folder = Path(settings.MEDIA_ROOT) / "imports"
    if not folder.is_dir():
        return 0
    changed = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        changed += _scrub_file(path, needles)
    return changed


def _scrub_file(path: Path, needles: list[str]) -> int:
    data = path.read_bytes()
    lowered = data.lower()
    spans = []
    for needle in needles:
        encoded = needle.lower().encode("utf-8")
        at = lowered.find(encoded)
        while at >= 0:
            spans.append((at, len(encoded)))
            at = lowered.find(encoded, at + 1)
    if not spans:
        return 0
    buffer = bytearray(data)
    for at, length in spans:
        buffer[at : at + length] = b"*" * length
    path.write_bytes(bytes(buffer))
    return 1


def _record(counts: dict) -> None:
    actor = current_actor()
    AuditEntry.objects.create(
        actor_id=actor.user_id,
        source=actor.source,
        action=AuditAction.UPDATE,
        model="privacy.person",
        object_repr="personal data erased",
        changes={name: [None, count] for name, count in counts.items()},
    )


def _secure_delete():
    """SQLite: zero the bytes of what is deleted or overwritten, for this connection."""
    return vendor.sqlite_pragmas(secure_delete=1)


def _checkpoint() -> None:
    vendor.checkpoint_wal()
