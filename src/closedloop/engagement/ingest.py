"""Storing tracking messages: touches in bulk, identities, lead traits and accounts.

One call stores one request's messages atomically (in a savepoint of a transaction that
concurrent requests share: groupcommit.py), and returns only once they are committed, so the
caller answers 2xx only then. Touches go in with one multi-row
`INSERT ... ON CONFLICT (message_id) DO NOTHING RETURNING` (SQLite ≥ 3.35 and PostgreSQL
alike): a resent messageId is skipped by the database itself, even when two copies race.
Messages that make no touch (identify, group, alias) are deduplicated the same way through
ReceivedMessage before they are applied.

Identity stitching: a touch whose visitor is not known yet is stored with no lead and its
anonymousId (or `user:<userId>`) in Touchpoint.anonymous_id. When an identify (or a form fill,
or a touch carrying both ids) ties that visitor to a lead, those touches join the lead.

After the commit, `touchpoints_recorded` names the leads that gained touches, so that the
scoring listener rescores them in a background task, never in the request.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.core import events
from closedloop.core.audit import acting_as
from closedloop.core.db import vendor
from closedloop.core.db.chunks import IDS_PER_STATEMENT, chunked
from closedloop.core.db.insert import ignore, insert_rows, upsert
from closedloop.core.models import AuditSource
from closedloop.crm.models import Account, Lead
from closedloop.crm.services import create_account, create_lead, save_if_version
from closedloop.engagement import segment
from closedloop.engagement.groupcommit import GroupCommit
from closedloop.engagement.models import (
    GroupLink,
    Identity,
    IdentityKind,
    ReceivedMessage,
    Touchpoint,
)
from closedloop.engagement.segment import Invalid, Message, Rejection
from closedloop.engagement.tracking import SourceConfig

logger = logging.getLogger(__name__)
USER, ANON = IdentityKind.USER, IdentityKind.ANONYMOUS
# Values per lookup statement on SQLite: a 4 MB batch can hold tens of thousands of tiny
# messages, and SQLite refuses a statement of more than 32,766 parameters.
_IN_CHUNK = IDS_PER_STATEMENT


def _chunks(values) -> list[list]:
    return list(chunked(list(values), _IN_CHUNK))


@dataclass
class IngestResult:
    """What became of a request's messages. `stored` counts new touches; `applied` counts
    identify/group/alias messages applied; `duplicates` counts resent messageIds skipped."""

    stored: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    lead_ids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class CampaignRef:
    id: int
    channel: str


def ingest_messages(
    raws: list,
    *,
    source: SourceConfig | None,
    kind: str | None = None,
    defaults: dict | None = None,
    check_size: bool = False,
    received_at: datetime | None = None,
) -> IngestResult:
    """Check and store raw Segment messages (decoded JSON objects) in one transaction.

    `kind` is the endpoint's message type for single calls (None for a batch); `defaults` are
    a batch's shared context/integrations/sentAt; `check_size` applies the 32 KB per-message
    limit (a single call's body was already bounded). Malformed messages are rejected one by
    one and the rest stored. Returns counts, rejections and the leads that gained touches.
    """
    received_at = received_at or timezone.now()
    result = IngestResult()
    messages = _checked(raws, kind, defaults, check_size, received_at, result)
    if not messages:
        return result

    def store() -> set[int]:
        with acting_as(None, AuditSource.API):
            _store(messages, source, received_at, result)
        return result.lead_ids

    if vendor.single_writer():
        _writer.run(store)
    else:
        _run_alone(store)  # PostgreSQL groups its own log flushes (see _run_alone)
    return result


def _run_alone(store) -> None:
    """One transaction for this request alone, concurrent with the others.

    PostgreSQL flushes concurrent commits together itself; grouping requests here as well
    would run every request's statements one after another on the leader's connection, each
    round trip waiting for the last, where separate connections overlap them.
    """
    with transaction.atomic():
        lead_ids = store()
        try:
            with transaction.atomic():
                outcome = _queue_rescore([lead_ids])
        except Exception:
            logger.exception("queuing the rescore in the ingest transaction failed")
            outcome = [lead_ids]
    _announce_group(outcome)


def _checked(raws, kind, defaults, check_size, received_at, result) -> list[Message]:
    messages = []
    for index, raw in enumerate(raws):
        try:
            if problem := segment.envelope_problem(raw, check_size=check_size):
                raise Invalid(problem)
            messages.append(
                segment.parse_message(
                    raw,
                    index=index,
                    kind=kind,
                    received_at=received_at,
                    defaults=defaults,
                )
            )
        except Invalid as exc:
            message_id = raw.get("messageId") if isinstance(raw, dict) else None
            result.rejected.append(
                Rejection(index, message_id if isinstance(message_id, str) else None, str(exc))
            )
    return messages


def _queue_rescore(lead_id_sets: list[set[int]]) -> dict:
    """Inside a group's transaction: the announcement payload for the leads it touched.

    Listeners of `touchpoints_storing` (scoring) may queue their work in this transaction, so
    that it commits with the touches in the group's one commit instead of costing a second
    durable commit afterwards; the payload then says `rescore_queued` and they do not queue it
    again when `touchpoints_recorded` follows the commit.
    """
    payload: dict = {"lead_ids": sorted(set().union(*lead_id_sets))}
    if payload["lead_ids"]:
        answers = events.touchpoints_storing.send(sender=Touchpoint, payload=payload)
        if any(queued for _receiver, queued in answers):
            payload["rescore_queued"] = True
    return payload


def _announce_group(outcome: dict | list[set[int]]) -> None:
    """After a group commit: one announcement for all the leads the group touched."""
    # outcome is _queue_rescore's payload, or the jobs' lead sets if that failed.
    payload = outcome if isinstance(outcome, dict) else {"lead_ids": sorted(set().union(*outcome))}
    if payload["lead_ids"]:
        # on_commit: immediate after a real commit; deferred when a caller's outer transaction
        # (an import, a test) is still open, so nothing is announced that could be rolled back.
        transaction.on_commit(lambda: _send_recorded(payload))


# Concurrent tracking requests of this process share transactions (see groupcommit.py).
_writer = GroupCommit(before_commit=_queue_rescore, after_commit=_announce_group)


def _announce(lead_ids: set[int]) -> None:
    if lead_ids:
        _announce_group([lead_ids])


def _send_recorded(payload: dict) -> None:
    # The touches are committed by now: a failing listener must not turn the client's answer
    # into an error (it would resend what is already stored), so it is logged instead.
    for receiver, outcome in events.touchpoints_recorded.send_robust(
        sender=Touchpoint, payload=payload
    ):
        if isinstance(outcome, Exception):
            logger.error("touchpoints_recorded listener %r failed", receiver, exc_info=outcome)


def _store(messages: list[Message], source, received_at, result: IngestResult) -> None:
    # Identify/group/alias first, so that touches of the same batch find the lead they name.
    identity_messages = [m for m in messages if m.type in segment.IDENTITY_TYPES]
    touches = [m for m in messages if m.type in segment.TOUCH_TYPES]
    fresh = _claim(identity_messages, received_at)
    appliers = {"identify": apply_identify, "group": apply_group, "alias": apply_alias}
    for message in identity_messages:
        if message.message_id is not None and message.message_id not in fresh:
            result.duplicates += 1
            continue
        appliers[message.type](message, result=result)
        result.applied += 1
    if touches:
        _store_touches(touches, source, received_at, result)


def _claim(messages: list[Message], received_at) -> set[str]:
    """Record the messageIds of these messages; returns those not seen before."""
    rows = [(m.message_id, m.type, received_at) for m in messages if m.message_id is not None]
    claimed = insert_rows(
        ReceivedMessage,
        ("message_id", "type", "received_at"),
        list({row[0]: row for row in rows}.values()),
        on_conflict=ignore("message_id"),
        returning="message_id",
    )
    return set(claimed)


# --- touches ---------------------------------------------------------------------------------


def _store_touches(messages: list[Message], source, received_at, result: IngestResult) -> None:
    unique = _without_repeats(messages, result)
    resolution = _resolve(unique)
    campaigns = campaigns_for(m.campaign for m in unique)
    overrides = source.event_types if source else None
    rows = []
    for message in unique:
        lead_id = resolution.leads.get(message.index)
        rows.append(_touch_row(message, lead_id, overrides, campaigns, source, received_at))
    inserted_leads = insert_touches(rows)
    result.stored += len(inserted_leads)
    result.duplicates += len(unique) - len(inserted_leads)
    result.lead_ids.update(lead for lead in inserted_leads if lead)
    _link_visitors(resolution, result)


def _without_repeats(messages: list[Message], result: IngestResult) -> list[Message]:
    seen: set[str] = set()
    unique = []
    for message in messages:
        if message.message_id is not None:
            if message.message_id in seen:
                result.duplicates += 1
                continue
            seen.add(message.message_id)
        unique.append(message)
    return unique


def _touch_row(message, lead_id, overrides, campaigns, source, received_at) -> tuple:
    kind = segment.touch_type(message, overrides)
    utm = message.campaign
    campaign = match_campaign(campaigns, utm)
    properties = segment.touch_properties(message)
    if source is not None:
        properties["source_id"] = source.id
    visitor = message.anonymous_id or ("" if lead_id else message.visitor_key)
    return (
        lead_id,
        visitor,
        kind,
        segment.channel_for(kind, utm, campaign.channel if campaign else ""),
        campaign.id if campaign else None,
        message.occurred_at,
        received_at,
        properties,
        message.message_id,
    )


_TOUCH_COLUMNS = (
    "lead_id",
    "anonymous_id",
    "type",
    "channel",
    "campaign_id",
    "occurred_at",
    "received_at",
    "properties",
    "message_id",
)


def insert_touches(rows: list[tuple]) -> list[int | None]:
    """Insert touch rows (in _TOUCH_COLUMNS order), skipping messageIds already stored.

    Returns the lead id (or None) of each row actually inserted.
    """
    return insert_rows(
        Touchpoint, _TOUCH_COLUMNS, rows, on_conflict=ignore("message_id"), returning="lead_id"
    )


@dataclass
class _Resolution:
    leads: dict[int, int] = field(default_factory=dict)  # message index → lead id
    links: dict[str, int] = field(default_factory=dict)  # anonymousId → lead id, to record
    relinks: set[str] = field(default_factory=set)  # of those, the ones already stored
    pending: dict[str, str] = field(default_factory=dict)  # anonymousId → unknown userId


def _resolve(messages: list[Message]) -> _Resolution:
    users = {m.user_id for m in messages if m.user_id}
    anons = {m.anonymous_id for m in messages if m.anonymous_id}
    found = _identities(users, anons)
    user_leads, anon_leads = {}, {}
    for kind, value, lead_id in found:
        (user_leads if kind == USER else anon_leads)[value] = lead_id
    resolution = _Resolution()
    for m in messages:
        lead_id = user_leads.get(m.user_id) or anon_leads.get(m.anonymous_id)
        if lead_id:
            resolution.leads[m.index] = lead_id
        if not m.anonymous_id:
            continue
        if lead_id and anon_leads.get(m.anonymous_id) != lead_id:
            resolution.links[m.anonymous_id] = lead_id
            if m.anonymous_id in anon_leads:
                resolution.relinks.add(m.anonymous_id)
        elif not lead_id and m.user_id and m.anonymous_id not in anon_leads:
            resolution.pending[m.anonymous_id] = m.user_id
    return resolution


def _identities(users: set[str], anons: set[str]) -> list[tuple]:
    """(kind, value, lead_id) of the known ones among these userIds and anonymousIds.

    Plain SQL: on the hot path, compiling the ORM query costs more than running it.
    """
    found: list[tuple] = []
    select = f"SELECT kind, value, lead_id FROM {Identity._meta.db_table} WHERE kind = %s AND "
    for kind, values in ((USER, users), (ANON, anons)):
        for where, params in vendor.one_of_chunks("value", list(values), size=_IN_CHUNK):
            found += _rows(select + where, [kind, *params])
    return found


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _link_visitors(resolution: _Resolution, result: IngestResult) -> None:
    """Record new anonymousId → lead links and join those visitors' earlier touches."""
    if resolution.pending:
        Identity.objects.bulk_create(
            [Identity(kind=ANON, value=a, user_id=u) for a, u in resolution.pending.items()],
            ignore_conflicts=True,
        )
    if not resolution.links:
        return
    Identity.objects.bulk_create(
        [
            Identity(kind=ANON, value=anon, lead_id=lead)
            for anon, lead in resolution.links.items()
            if anon not in resolution.relinks
        ],
        ignore_conflicts=True,
    )
    by_lead: dict[int, list[str]] = defaultdict(list)
    for anon, lead in resolution.links.items():
        by_lead[lead].append(anon)
    for lead, anons in by_lead.items():
        relinked = [a for a in anons if a in resolution.relinks]
        if relinked:
            Identity.objects.filter(kind=ANON, value__in=relinked).update(lead_id=lead)
        if stitch(lead, anons):
            result.lead_ids.add(lead)


def stitch(lead_id: int, visitor_keys: Iterable[str]) -> int:
    """Join the not-yet-attributed touches stored under these visitor keys to the lead."""
    keys = [k for k in visitor_keys if k]
    if not keys:
        return 0
    # Found by anonymous_id first, then updated by id: filtering on "lead IS NULL" in the same
    # statement lets the planner pick the lead index, and most anonymous touches share NULL.
    table = Touchpoint._meta.db_table
    ids = []
    for chunk in _chunks(keys):
        marks = ", ".join(["%s"] * len(chunk))
        found = _rows(f"SELECT id, lead_id FROM {table} WHERE anonymous_id IN ({marks})", chunk)
        ids += [pk for pk, lead in found if lead is None]
    joined = 0
    for chunk in _chunks(ids):
        joined += Touchpoint.objects.filter(pk__in=chunk, lead__isnull=True).update(lead_id=lead_id)
    return joined


# --- campaigns -------------------------------------------------------------------------------


def campaigns_for(utms: Iterable[dict]) -> dict[str, CampaignRef]:
    """Campaigns named by utm_campaign values, keyed by lower-cased name and by external id."""
    names = {str(u.get("name")).strip() for u in utms if u.get("name")}
    rows = []
    for chunk in _chunks(names):
        lowered = {n.lower() for n in chunk}
        rows += _rows(
            f"SELECT id, LOWER(name), external_id, channel FROM {Campaign._meta.db_table} "
            f"WHERE LOWER(name) IN ({', '.join(['%s'] * len(lowered))}) "
            f"OR external_id IN ({', '.join(['%s'] * len(chunk))})",
            [*lowered, *chunk],
        )
    found: dict[str, CampaignRef] = {}
    for pk, lname, external_id, channel in rows:
        ref = CampaignRef(pk, channel)
        found.setdefault(lname, ref)
        if external_id:
            found.setdefault(f"ext:{external_id}", ref)
    return found


def match_campaign(campaigns: dict[str, CampaignRef], utm: dict) -> CampaignRef | None:
    name = str(utm.get("name") or "").strip()
    if not name:
        return None
    return campaigns.get(f"ext:{name}") or campaigns.get(name.lower())


# --- identify, group, alias ------------------------------------------------------------------


def lead_for_ids(user_id: str | None, anonymous_id: str | None) -> Lead | None:
    """The lead a userId (first) or an anonymousId belongs to, if any."""
    links = {
        kind: lead_id
        for kind, _, lead_id in _identities({user_id} - {None}, {anonymous_id} - {None})
        if lead_id is not None
    }
    lead_id = links.get(USER) or links.get(ANON)
    return Lead.objects.filter(pk=lead_id).first() if lead_id else None


def lead_for_email(email: str) -> Lead | None:
    # LOWER(email) = value uses the lead_email_lower index, where iexact would not.
    found = _rows(
        f"SELECT id FROM {Lead._meta.db_table} WHERE LOWER(email) = %s ORDER BY id LIMIT 1",
        [email.lower()],
    )
    return Lead.objects.filter(pk=found[0][0]).first() if found else None


def upsert_lead(
    fields: dict,
    *,
    lead: Lead | None,
    at: datetime,
    utm: dict,
    campaign_id: int | None = None,
) -> Lead:
    """Create the lead with `fields`, or write the fields that changed on the given lead.

    A new lead's original campaign is `campaign_id`, else the campaign its utm names.
    """
    if lead is None:
        if campaign_id is None and (campaign := match_campaign(campaigns_for([utm]), utm)):
            campaign_id = campaign.id
        # Through crm's service, like every door: the entry is in the stage history.
        return create_lead(
            by=None,
            fields={
                "source": segment.lead_source_for(utm),
                "original_campaign_id": campaign_id,
                **fields,
            },
            reason="identified by tracking",
            at=at,
        )
    changed = [name for name, value in fields.items() if getattr(lead, name) != value]
    if changed:
        for name in changed:
            setattr(lead, name, fields[name])
        save_if_version(lead, expected_version=None, fields=changed)
    return lead


def link_visitor(lead: Lead, *, user_id: str | None, anonymous_id: str | None) -> int:
    """Tie a userId and an anonymousId to the lead; join their earlier touches to it.

    Also joins anonymousIds that were seen beside this userId before it had a lead.
    Returns how many touches joined the lead.
    """
    links = [(kind, value) for kind, value in ((USER, user_id), (ANON, anonymous_id)) if value]
    if not links:
        return 0
    _point_at_lead(links, lead.pk)
    keys = [value for _, value in links]
    if user_id:
        keys.append(f"user:{user_id}")
        keys += _claim_waiting(lead.pk, user_id)
    return stitch(lead.pk, keys)


def _point_at_lead(links: list[tuple[str, str]], lead_id: int) -> None:
    """Create these (kind, value) identities for the lead, or move existing ones to it.

    The statement Identity.objects.bulk_create(update_conflicts=True) would write, without
    building model instances and compiling it for the one or two rows of an identify.
    """
    now = timezone.now()
    insert_rows(
        Identity,
        ("kind", "value", "lead_id", "user_id", "created_at"),
        [(kind, value, lead_id, "", now) for kind, value in links],
        on_conflict=upsert(("kind", "value"), update=("lead_id",)),
    )


def _claim_waiting(lead_id: int, user_id: str) -> list[str]:
    """Give the lead the anonymousIds that waited for this userId; returns them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Identity._meta.db_table} SET lead_id = %s "
            "WHERE user_id = %s AND kind = %s AND lead_id IS NULL RETURNING value",
            [lead_id, user_id, ANON],
        )
        return [row[0] for row in cursor.fetchall()]


def apply_identify(message: Message, *, result: IngestResult) -> Lead | None:
    """identify: find the lead (userId, anonymousId, then email), write its traits, link ids.

    An identify that names neither a known visitor, a userId nor an email creates nothing:
    there is no one to attach the traits to.
    """
    fields = segment.lead_fields(message.traits)
    lead = lead_for_ids(message.user_id, message.anonymous_id)
    if lead is None and fields.get("email"):
        lead = lead_for_email(fields["email"])
    if lead is None and not (message.user_id or fields.get("email")):
        return None
    lead = upsert_lead(fields, lead=lead, at=message.occurred_at, utm=message.campaign)
    if link_visitor(lead, user_id=message.user_id, anonymous_id=message.anonymous_id):
        result.lead_ids.add(lead.pk)
    return lead


def apply_group(message: Message, *, result: IngestResult) -> Account:
    """group: find or create the account (groupId, then domain, then name), write its traits,
    and put the message's lead, when known, in that account."""
    fields = segment.account_fields(message.traits)
    account = _account_for(message.group_id, fields)
    if account is None:
        fields.setdefault("name", message.group_id)
        account = create_account(by=None, fields={"created_at": message.occurred_at, **fields})
    else:
        changed = [name for name, value in fields.items() if getattr(account, name) != value]
        for name in changed:
            setattr(account, name, fields[name])
        if changed:
            save_if_version(account, expected_version=None, fields=changed)
    GroupLink.objects.update_or_create(group_id=message.group_id, defaults={"account": account})
    lead = lead_for_ids(message.user_id, message.anonymous_id)
    if lead is not None and lead.account_id != account.pk:
        lead.account = account
        names = ["account"]
        if not lead.company:
            lead.company = account.name[:200]
            names.append("company")
        save_if_version(lead, expected_version=None, fields=names)
    return account


def _account_for(group_id: str, fields: dict) -> Account | None:
    link = GroupLink.objects.select_related("account").filter(group_id=group_id).first()
    if link is not None:
        return link.account
    if fields.get("domain"):
        found = Account.objects.annotate(ldomain=Lower("domain")).filter(ldomain=fields["domain"])
        if account := found.first():
            return account
    if fields.get("name"):
        return Account.objects.filter(name__iexact=fields["name"]).order_by("id").first()
    return None


def apply_alias(message: Message, *, result: IngestResult) -> Lead | None:
    """alias: previousId (an earlier anonymousId or userId) is the same person as userId."""
    lead = lead_for_ids(message.user_id, None) or lead_for_ids(
        message.previous_id, message.previous_id
    )
    if lead is None:
        Identity.objects.get_or_create(
            kind=ANON, value=message.previous_id, defaults={"user_id": message.user_id}
        )
        return None
    joined = link_visitor(lead, user_id=message.user_id, anonymous_id=message.previous_id)
    joined += stitch(lead.pk, [f"user:{message.previous_id}"])
    if joined:
        result.lead_ids.add(lead.pk)
    return lead
