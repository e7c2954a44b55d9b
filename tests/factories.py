"""Plain factory functions for tests: explicit, no magic, sensible defaults."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.utils import timezone

from closedloop.core.models import Role, Team, User
from closedloop.crm.models import Account, Lead, LeadSource, LifecycleStage, Opportunity

_seq = itertools.count(1)


def make_team(name: str = "") -> Team:
    return Team.objects.get_or_create(name=name or f"Team {next(_seq)}")[0]


def make_user(email: str = "", *, role: str = Role.REP, team: Team | None = None, **extra) -> User:
    email = email or f"user{next(_seq)}@example.com"
    user = User.objects.create_user(
        email=email, password="pw-for-tests", role=role, team=team, **extra
    )
    return user


def make_account(name: str = "", *, domain: str = "", **extra) -> Account:
    n = next(_seq)
    return Account.objects.create(
        name=name or f"Account {n}",
        domain=domain or f"account{n}.example",
        created_at=timezone.now(),
        **extra,
    )


def make_lead(
    *,
    owner: User | None = None,
    stage: str = LifecycleStage.LEAD,
    created_at: datetime | None = None,
    **extra,
) -> Lead:
    n = next(_seq)
    extra.setdefault("first_name", f"First{n}")
    extra.setdefault("last_name", f"Last{n}")
    extra.setdefault("email", f"lead{n}@example.com")
    extra.setdefault("source", LeadSource.ORGANIC_SEARCH)
    return Lead.objects.create(
        owner=owner, lifecycle_stage=stage, created_at=created_at or timezone.now(), **extra
    )


def make_opportunity(*, account: Account | None = None, **extra) -> Opportunity:
    extra.setdefault("name", f"Deal {next(_seq)}")
    return Opportunity.objects.create(
        account=account or make_account(), created_at=timezone.now(), **extra
    )
