"""Writing parsed rows to the database, one chunk at a time, for each kind of record.

A loader gets the rows of a chunk that parsed cleanly (`closedloop.imports.engine.Row`) and:
1. `resolve(rows)`: looks up what the rows refer to (owners, accounts, leads) and fails the
   rows whose references do not exist;
2. `write(rows)`: upserts the rest with bulk queries and returns how many were created, updated
   and unchanged. It runs inside the chunk's transaction.

Upsert keys: external id first, then email (leads) or domain (accounts). Empty cells never
blank a stored value: an import fills and corrects, it does not erase.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db.models.functions import Lower
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.core import events
from closedloop.core.db import vendor
from closedloop.core.db.insert import insert_dicts
from closedloop.core.models import Role, User
from closedloop.crm.models import Account, Lead, Opportunity, StageChange
from closedloop.crm.services import (
    announce_won,
    bulk_save,
    current_pipeline,
    moved_fields,
    owners_changed,
    plan_stage_move,
    record_stage_moves,
)
from closedloop.crm.services.bulk import (
    OpportunityRules,
    imported_close_fields,
    new_lead_row,
    plan_opportunity_update,
    record_entry_stages,
    record_opportunity_history,
)
from closedloop.definitions.services import current_lifecycle
from closedloop.engagement.models import Touchpoint
from closedloop.imports.engine import Kind, Row


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _users_by_name() -> dict[str, int]:
    """Owners are named by email or full name in exports: both, lower-cased, to a user id."""
    table: dict[str, int] = {}
    for pk, mail, first, last in User.objects.values_list("pk", "email", "first_name", "last_name"):
        full = f"{first} {last}".strip().lower()
        if full:
            table.setdefault(full, pk)
        table[mail.lower()] = pk
    return table


def _changed_fields(obj, values: dict, fields: tuple[str, ...]) -> list[str]:
    changed = []
    for name in fields:
        if name in values and getattr(obj, name) != values[name]:
            setattr(obj, name, values[name])
            changed.append(name)
    return changed


class Loader:
    model: type
    # Fields copied as they are from the parsed values onto the model, on create and update.
    copied: tuple[str, ...] = ()
    # A large SQLite import may drop the secondary indexes of these tables, all but those on
    # the columns given, which its lookups read (closedloop.imports.indexes).
    bulk_tables: tuple[tuple[type, tuple[str, ...]], ...] = ()

    def __init__(self, job):
        self.job = job
        self.by = job.created_by
        self.reason = f"import {job.file_name}"[:300]
        self.owners = _users_by_name()
        # Marketing imports leads but does not reassign them (DESIGN.md): an owner column only
        # fills empty owners, unless an admin runs the import.
        self.may_reassign = bool(self.by and self.by.role == Role.ADMIN)

    def resolve(self, rows: list[Row]) -> None:
        for row in rows:
            owner = row.values.get("owner")
            if owner is not None:
                pk = self.owners.get(str(owner).lower())
                if pk is None:
                    row.fail(
                        self.column_of("owner"),
                        str(owner),
                        f"unknown owner {owner!r}: no user with that email or name",
                    )
                else:
                    row.values["owner_id"] = pk

    def column_of(self, target: str) -> str:
        for header, mapped in self.job.mapping.items():
            if mapped == target:
                return header
        return target

    def write(self, rows: list[Row]) -> Outcome:
        raise NotImplementedError

    def _apply_owner(self, obj, values: dict) -> list[str]:
        pk = values.get("owner_id")
        if pk is None or obj.owner_id == pk or (obj.owner_id and not self.may_reassign):
            return []
        obj.owner_id = pk
        return ["owner"]

    def _bulk_update(self, objects: list, fields: set[str]) -> None:
        bulk_save(self.model, objects, fields)


class LeadLoader(Loader):
    model = Lead
    copied = (
        "external_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "seniority",
        "company",
        "industry",
        "employees",
        "country",
        "city",
        "status",
        "source",
    )
    # The upsert reads leads by external id and email; entry stages are written per new lead.
    bulk_tables = ((Lead, ("external_id", "email")), (StageChange, ("lead_id",)))

    def resolve(self, rows: list[Row]) -> None:
        super().resolve(rows)
        _resolve_accounts_by_external_id(rows, self.column_of("account_external_id"))
        self.existing = _existing(
            Lead, rows, external_ids="external_id", lowered=("email", "email")
        )
        self.lifecycle = current_lifecycle()
        for row in rows:
            self._check_move(row)

    def _check_move(self, row: Row) -> None:
        """A stored lead's stage moves as the contract's lifecycle allows; a new lead may enter
        at any stage (an entry, not a move: docs/decisions/0011-lifecycle-enforcement.md)."""
        lead, stage = self.existing.get(row), row.values.get("lifecycle_stage")
        if lead is None or not stage:
            return
        refusal = self.lifecycle.refusal(lead.lifecycle_stage, str(stage))
        if refusal:
            row.fail(self.column_of("lifecycle_stage"), str(stage), refusal)

    def write(self, rows: list[Row]) -> Outcome:
        existing = self.existing
        outcome, new, changed, fields, stage_changes = Outcome(), [], [], set(), []
        owner_changes: list[tuple[int, int | None, int | None]] = []
        now = timezone.now()
        for row in rows:
            lead = existing.get(row)
            values = row.values
            if lead is None:
                new.append(self._new(values, now))
                continue
            names = _changed_fields(lead, values, self.copied)
            names += self._new_owner(lead, values, now, owner_changes)
            if values.get("account_id") and lead.account_id != values["account_id"]:
                lead.account_id = values["account_id"]
                names.append("account")
            if change := self._move(lead, values.get("lifecycle_stage"), now):
                stage_changes.append(change)
                names += moved_fields(change)
            if names:
                changed.append(lead)
                fields.update(names)
                outcome.updated += 1
            else:
                outcome.unchanged += 1
        ids = insert_dicts(Lead, new)
        outcome.created = len(new)
        self._bulk_update(changed, fields)
        owners_changed(owner_changes, by=self.by, reason=self.reason, at=now)
        record_stage_moves(stage_changes)
        # A new lead enters the funnel at its stage: record that entry like any other change.
        record_entry_stages(ids, by_id=self.by.pk if self.by else None, reason=self.reason)
        _announce_imported([*ids, *(lead.pk for lead in changed)])
        return outcome

    def _new(self, values: dict, now: datetime) -> dict:
        return new_lead_row(values, now=now)

    def _new_owner(self, lead: Lead, values: dict, now: datetime, changes: list) -> list[str]:
        """A row's new owner for a stored lead, noted in `changes` for the ownership log."""
        previous = lead.owner_id
        if not self._apply_owner(lead, values):
            return []
        lead.assigned_at = now
        changes.append((lead.pk, previous, lead.owner_id))
        return ["owner", "assigned_at"]

    def _move(self, lead: Lead, stage: str | None, now: datetime):
        """The stage move a row asks of a stored lead (planned as change_stage would)."""
        if not stage:
            return None
        return plan_stage_move(
            lead, to=stage, by=self.by, reason=self.reason, at=now, lifecycle=self.lifecycle
        )


def _announce_imported(lead_ids: list[int]) -> None:
    """After commit, name the leads this chunk created or changed, so that scoring rescores
    them: an imported lead that meets the MQL rule becomes MQL and is routed."""
    if not lead_ids:
        return
    from django.db import transaction

    payload = {"lead_ids": lead_ids}
    transaction.on_commit(lambda: events.leads_imported.send(sender=Lead, payload=payload))


def _resolve_accounts_by_external_id(rows: list[Row], column: str) -> None:
    wanted = {r.values["account_external_id"] for r in rows if r.values.get("account_external_id")}
    if not wanted:
        return
    found = dict(Account.objects.filter(external_id__in=wanted).values_list("external_id", "pk"))
    for row in rows:
        ext = row.values.get("account_external_id")
        if ext and ext not in found:
            row.fail(
                column,
                str(ext),
                f"no account with external id {ext!r}: import the "
                "accounts first, or leave the column unmapped",
            )
        elif ext:
            row.values["account_id"] = found[ext]


class _Matches:
    """Existing records for a chunk's rows: by external id first, then by a lower-cased key."""

    def __init__(self, by_external: dict, by_key: dict, key: str | None):
        self.by_external, self.by_key, self.key = by_external, by_key, key

    def get(self, row: Row):
        ext = row.values.get("external_id")
        if ext and ext in self.by_external:
            return self.by_external[ext]
        value = row.values.get(self.key) if self.key else None
        return self.by_key.get(str(value).lower()) if value else None


def _existing(model, rows: list[Row], *, external_ids: str, lowered: tuple[str, str] | None):
    ext = {r.values["external_id"] for r in rows if r.values.get("external_id")}
    key = lowered[0] if lowered else None
    keys = {str(r.values[key]).lower() for r in rows if r.values.get(key)} if key else set()
    pks = _matching_pks(model, ext, lowered[1] if lowered else "", keys)
    by_external: dict = {}
    by_key: dict = {}
    # Oldest first, so that on duplicates already in the database the oldest record wins.
    for obj in model.objects.filter(pk__in=pks).order_by("-pk") if pks else ():
        if obj.external_id and obj.external_id in ext:
            by_external[obj.external_id] = obj
        value = getattr(obj, lowered[1]).lower() if lowered else ""
        if value in keys:
            by_key[value] = obj
    return _Matches(by_external, by_key, key)


def _matching_pks(model, ext: set, column: str, keys: set) -> list[int]:
    """Ids of records whose external id is in `ext` or whose lower(column) is in `keys`.

    Plain SQL: most chunks of a first import match nothing, and the ORM's IN lookup prepares
    each of 5,000 parameters in Python, which cost more than the query itself.
    """
    pks: list[int] = []
    lookups = [("external_id", ext)]
    if keys:
        lookups.append((f"LOWER({vendor.column(model, column)})", keys))
    for name, values in lookups:
        for where, params in vendor.one_of_chunks(name, list(values)):
            found = vendor.fetch(f"SELECT id FROM {vendor.table(model)} WHERE {where}", params)
            pks += [row[0] for row in found]
    return pks


class AccountLoader(Loader):
    model = Account
    copied = ("external_id", "name", "domain", "industry", "employees", "annual_revenue", "country")

    def resolve(self, rows: list[Row]) -> None:
        super().resolve(rows)
        self.matches = _existing(
            Account, rows, external_ids="external_id", lowered=("domain", "domain")
        )
        for row in rows:
            account = self.matches.get(row)
            if account is None and not row.values.get("name"):
                row.fail(self.column_of("name"), "", "name: required for a new account")
            domain_owner = self.matches.by_key.get(str(row.values.get("domain", "")).lower())
            if account is not None and domain_owner is not None and domain_owner.pk != account.pk:
                row.fail(
                    self.column_of("domain"),
                    str(row.values["domain"]),
                    f"domain already belongs to account {domain_owner.name!r}",
                )

    def write(self, rows: list[Row]) -> Outcome:
        outcome, new, changed, fields = Outcome(), [], [], set()
        now = timezone.now()
        for row in rows:
            values = row.values
            account = self.matches.get(row)
            if account is None:
                new.append(
                    {
                        **{n: values[n] for n in self.copied if n in values},
                        "owner_id": values.get("owner_id"),
                        "created_at": values.get("created_at", now),
                    }
                )
                continue
            names = _changed_fields(account, values, self.copied)
            names += self._apply_owner(account, values)
            if names:
                changed.append(account)
                fields.update(names)
                outcome.updated += 1
            else:
                outcome.unchanged += 1
        insert_dicts(Account, new, returning=None)
        outcome.created = len(new)
        self._bulk_update(changed, fields)
        return outcome


class OpportunityLoader(Loader):
    model = Opportunity
    copied = ("external_id", "name", "amount", "stage", "close_date", "lost_reason")

    def resolve(self, rows: list[Row]) -> None:
        super().resolve(rows)
        _resolve_accounts_by_external_id(rows, self.column_of("account_external_id"))
        names = {
            str(r.values["account_name"]).lower()
            for r in rows
            if r.values.get("account_name") and not r.values.get("account_id")
        }
        by_name = {}
        if names:
            query = Account.objects.annotate(_k=Lower("name")).filter(_k__in=names).order_by("-pk")
            by_name = {a._k: a.pk for a in query.only("pk", "name")}
        self.matches = _existing(Opportunity, rows, external_ids="external_id", lowered=None)
        rules = OpportunityRules()
        for row in rows:
            values = row.values
            refused = rules.refusal(values, self.matches.get(row))
            if refused:
                row.fail(self.column_of(refused[0]), str(values.get(refused[0], "")), refused[1])
            if not values.get("account_id") and values.get("account_name"):
                pk = by_name.get(str(values["account_name"]).lower())
                if pk is None:
                    row.fail(
                        self.column_of("account_name"),
                        str(values["account_name"]),
                        f"no account named {values['account_name']!r}: import the accounts first",
                    )
                    continue
                values["account_id"] = pk
            if self.matches.get(row) is None:
                for needed in ("name", "account_id"):
                    if not values.get(needed) and row.ok:
                        label = "name" if needed == "name" else "account"
                        row.fail(
                            self.column_of(needed if needed == "name" else "account_name"),
                            "",
                            f"{label}: required for a new opportunity",
                        )

    def write(self, rows: list[Row]) -> Outcome:
        outcome, new, changed, fields = Outcome(), [], [], set()
        now = timezone.now()
        won, moves = [], []
        first_stage = current_pipeline().first.code
        for row in rows:
            values = row.values
            imported_close_fields(values)
            opp = self.matches.get(row)
            if opp is None:
                new.append(self._new_row(values, now, first_stage))
                continue
            before = opp.stage
            names = _changed_fields(opp, values, self.copied) + self._apply_owner(opp, values)
            if values.get("account_id") and opp.account_id != values["account_id"]:
                opp.account_id = values["account_id"]
                names.append("account")
            if plan_opportunity_update(opp, values, names):
                won.append(opp)
            if "stage" in names:
                moves.append((opp.pk, before, opp.stage, opp.stage_entered_at))
            if names:
                changed.append(opp)
                fields.update(names)
                outcome.updated += 1
            else:
                outcome.unchanged += 1
        ids = insert_dicts(Opportunity, new, returning="id")
        moves += [
            (pk, "", d["stage"], d["stage_entered_at"]) for pk, d in zip(ids, new, strict=True)
        ]
        outcome.created = len(new)
        self._bulk_update(changed, fields)
        record_opportunity_history(moves, by_id=self.by and self.by.pk, reason=self.reason)
        announce_won(won)
        return outcome

    def _new_row(self, values: dict, now: datetime, first_stage: str) -> dict:
        created = values.get("created_at", now)
        return {
            **{n: values[n] for n in self.copied if n in values},
            "stage": values.get("stage") or first_stage,
            "account_id": values["account_id"],
            "owner_id": values.get("owner_id"),
            "closed_at": values.get("closed_at"),
            "created_at": created,
            "stage_entered_at": values.get("closed_at") or created,
        }


class TouchpointLoader(Loader):
    """Touches are facts, never updated: a touch already imported is unchanged.

    Idempotency rides on the touchpoint's `message_id`: the row's external id when it has
    one, else a digest of who, what and when.
    """

    model = Touchpoint

    def resolve(self, rows: list[Row]) -> None:
        emails = {str(r.values["email"]).lower() for r in rows if r.values.get("email")}
        ext = {r.values["lead_external_id"] for r in rows if r.values.get("lead_external_id")}
        by_email, by_ext = {}, {}
        if emails:
            query = Lead.objects.annotate(_k=Lower("email")).filter(_k__in=emails).order_by("-pk")
            by_email = dict(query.values_list("_k", "pk"))
        if ext:
            by_ext = dict(Lead.objects.filter(external_id__in=ext).values_list("external_id", "pk"))
        names = {r.values["campaign"] for r in rows if r.values.get("campaign")}
        campaigns = dict(Campaign.objects.filter(name__in=names).values_list("name", "pk"))
        for row in rows:
            self._resolve_row(row, by_email, by_ext, campaigns)

    def _resolve_row(self, row: Row, by_email: dict, by_ext: dict, campaigns: dict) -> None:
        values = row.values
        lead_id = by_ext.get(values.get("lead_external_id")) or by_email.get(
            str(values.get("email", "")).lower()
        )
        if lead_id is None:
            who = values.get("lead_external_id") or values.get("email") or ""
            column = self.column_of("email" if values.get("email") else "lead_external_id")
            row.fail(column, str(who), "no lead with this email or external id")
            return
        values["lead_id"] = lead_id
        if values.get("campaign"):
            if values["campaign"] not in campaigns:
                row.fail(self.column_of("campaign"), str(values["campaign"]), "unknown campaign")
                return
            values["campaign_id"] = campaigns[values["campaign"]]
        values["message_id"] = _message_id(values)

    def write(self, rows: list[Row]) -> Outcome:
        ids = [r.values["message_id"] for r in rows]
        stored = Touchpoint.objects.filter(message_id__in=ids)
        known = set(stored.values_list("message_id", flat=True))
        new = []
        for values in (r.values for r in rows):
            if values["message_id"] in known:
                continue  # imported before, or the same touch twice in this file
            known.add(values["message_id"])
            new.append(
                {
                    "lead_id": values["lead_id"],
                    "type": values["type"],
                    "occurred_at": values["occurred_at"],
                    "channel": values.get("channel", ""),
                    "campaign_id": values.get("campaign_id"),
                    "message_id": values["message_id"],
                    "properties": {"source": "import"},
                }
            )
        insert_dicts(Touchpoint, new, returning=None)
        lead_ids = sorted({t["lead_id"] for t in new})
        if lead_ids:
            from django.db import transaction

            payload = {"lead_ids": lead_ids}
            transaction.on_commit(
                lambda: events.touchpoints_recorded.send(sender=Touchpoint, payload=payload)
            )
        return Outcome(created=len(new), unchanged=len(rows) - len(new))


def _message_id(values: dict) -> str:
    if values.get("external_id"):
        return f"import:{values['external_id']}"
    basis = "|".join(
        str(values.get(k, "")) for k in ("lead_id", "type", "occurred_at", "campaign_id", "channel")
    )
    return "import:" + hashlib.sha256(basis.encode()).hexdigest()[:40]


LOADERS: dict[Kind, type[Loader]] = {
    Kind.LEADS: LeadLoader,
    Kind.ACCOUNTS: AccountLoader,
    Kind.OPPORTUNITIES: OpportunityLoader,
    Kind.TOUCHPOINTS: TouchpointLoader,
}
