"""Creating and changing accounts, from every door. An account's domain is unique (case
insensitive): a second account with a taken domain is refused with DomainTaken."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from closedloop.core.models import User
from closedloop.core.permissions import require_write
from closedloop.crm.models import Account
from closedloop.crm.services.leads import check_new_owner, check_owner_change
from closedloop.crm.services.versions import save_changed, set_changed


class DomainTaken(Exception):
    """Another account already has this domain (the API answers 409 on `domain`)."""

    field = "domain"

    def __init__(self, domain: str):
        super().__init__(f"an account with domain {domain!r} already exists")


def check_domain_free(domain: str, *, exclude: int | None = None) -> None:
    """DomainTaken when an account other than `exclude` has `domain` (any letter case)."""
    if domain and Account.objects.filter(domain__iexact=domain).exclude(pk=exclude).exists():
        raise DomainTaken(domain)


def create_account(*, by: User | None, fields: dict) -> Account:
    """Create an account with `fields` (model field names; owner as a user); returns it."""
    check_new_owner(by, fields.get("owner"))
    check_domain_free(fields.get("domain", ""))
    try:
        with transaction.atomic():
            return Account.objects.create(**{"created_at": timezone.now(), **fields})
    except IntegrityError:  # a concurrent create took the domain between check and insert
        raise DomainTaken(fields.get("domain", "")) from None


def update_account(
    account: Account, *, by: User | None, changes: dict, expected_version: int | None = None
) -> Account:
    """Write `changes` to `account`; with `expected_version`, only if it is still at that
    version (StaleVersion otherwise). Returns the account."""
    if "owner" in changes:
        check_owner_change(by, current=account.owner, new=changes["owner"])
    if "domain" in changes:
        check_domain_free(changes["domain"], exclude=account.pk)
    fields = set_changed(account, changes)
    try:
        save_changed(account, expected_version=expected_version, fields=fields)
    except IntegrityError:
        raise DomainTaken(changes.get("domain", "")) from None
    return account


@transaction.atomic
def delete_account(account: Account, *, by: User | None) -> None:
    """Delete `account` (refused with ProtectedError while opportunities belong to it;
    its leads stay, without an account).

    Read-only roles are refused; the audit log records who deleted it (the door's actor).
    """
    if by is not None:
        require_write(by)
    account.delete()
