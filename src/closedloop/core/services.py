"""Users and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from closedloop.core.models import ApiToken, Role, Team, User

TOKEN_PREFIX = "cl_"


def generate_password() -> str:
    """A random password to print once; never a fixed default."""
    return secrets.token_urlsafe(12)


@transaction.atomic
def create_or_reset_user(
    *, email: str, role: str, team_name: str = "", first_name: str = "", last_name: str = ""
) -> tuple[User, str, bool]:
    """Create the user, or give an existing one a new password: (user, password, created)."""
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}, not {role!r}")
    email = User.objects.normalize_email(email.strip())
    if "@" not in email:
        raise ValueError(f"{email!r} is not an email address")
    team = Team.objects.get_or_create(name=team_name)[0] if team_name else None
    password = generate_password()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email, username=email)
    user.role = role
    user.team = team or user.team
    user.first_name = first_name or user.first_name
    user.last_name = last_name or user.last_name
    # Only admins enter Django's admin; the flags follow the role.
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.set_password(password)
    user.save()
    return user, password, created


def hash_token(secret: str) -> str:
    # Tokens are 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it and the secret, which is not stored and cannot be shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "token",
        prefix=secret[:10],
        token_hash=hash_token(secret),
    )
    return token, secret


def revoke_api_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def user_for_token(secret: str) -> User | None:
    """The active user a token belongs to, or None; records when the token was last used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write at most once a minute per token: a busy client should not turn reads into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
