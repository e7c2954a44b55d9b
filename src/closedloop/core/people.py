"""Settings for people: invite users by e-mail, change their role and team, deactivate them;
create and rename teams. Every write is audited (`record_change`), whoever makes it.

An invitation is a user without a usable password and a link that sets one. The link carries
Django's PasswordResetTokenGenerator token: it stops working once the password is set (the
token hashes the password), after PASSWORD_RESET_TIMEOUT, or when the user logs in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from closedloop.core.audit import record_change
from closedloop.core.models import AuditAction, Role, Team, User

SALES_ROLES = (Role.REP, Role.MANAGER)


def _require_admin(by: User) -> None:
    if by.role != Role.ADMIN:
        raise PermissionDenied("only admins manage users and teams")


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": f"{email!r} is not an e-mail address"}) from exc
    return email


def _check_role_and_team(role: str, team: Team | None) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"must be one of {', '.join(Role.values)}"})
    if role in SALES_ROLES and team is None:
        raise ValidationError({"team": "reps and managers belong to a team"})


@transaction.atomic
def invite_user(
    *,
    by: User,
    email: str,
    role: str,
    team: Team | None = None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """A new user who sets their own password through the link `invitation_path` gives."""
    _require_admin(by)
    email = _clean_email(email)
    _check_role_and_team(role, team)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has an account"})
    user = User(email=email, username=email, role=role, team=team)
    user.first_name, user.last_name = first_name.strip()[:150], last_name.strip()[:150]
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.set_unusable_password()
    user.save()
    fields = {"email": email, "role": role, "team": team.name if team else None}
    record_change(
        user, action=AuditAction.CREATE, changes={k: (None, v) for k, v in fields.items()}
    )
    return user


def invitation_path(user: User) -> str:
    """The set-password path for `user` (valid until used or expired)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("set-password", args=[uid, token])


def send_invitation(user: User, *, base_url: str) -> None:
    """E-mail the invitation link; `base_url` is the site's address (scheme and host)."""
    link = base_url.rstrip("/") + invitation_path(user)
    body = (
        f"Hello {user.display_name},\n\nYou have been invited to closedloop as "
        f"{user.get_role_display()}. Choose your password here:\n\n{link}\n\n"
        "The link works once."
    )
    send_mail("Your closedloop account", body, settings.DEFAULT_FROM_EMAIL, [user.email])


def user_for_invitation(uidb64: str, token: str) -> User | None:
    """The active user the link belongs to when its token is still valid, else None."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def set_password_from_invitation(user: User, *, password1: str, password2: str) -> User:
    """Set the invited user's password (Django's validators apply); the link then expires."""
    form = SetPasswordForm(user, {"new_password1": password1, "new_password2": password2})
    if not form.is_valid():
        raise ValidationError({k: v[0] for k, v in form.errors.items()})
    form.save()
    record_change(user, action=AuditAction.UPDATE, changes={"password": ("(unset)", "(set)")})
    return user


@transaction.atomic
def change_user(user: User, *, by: User, role: str, team: Team | None, is_active: bool) -> User:
    """Change someone's role, team or whether they may log in. Admins cannot demote or
    deactivate themselves (the installation would lose its last way in)."""
    _require_admin(by)
    _check_role_and_team(role, team)
    if user.pk == by.pk and (role != Role.ADMIN or not is_active):
        raise ValidationError({"role": "you cannot remove your own admin access"})
    before = {
        "role": user.role,
        "team": user.team.name if user.team else None,
        "is_active": user.is_active,
    }
    user.role, user.team, user.is_active = role, team, is_active
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "team", "is_active", "is_staff", "is_superuser"])
    after = {"role": role, "team": team.name if team else None, "is_active": is_active}
    changes = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
    if changes:
        record_change(user, action=AuditAction.UPDATE, changes=changes)
    return user


@transaction.atomic
def save_team(*, by: User, name: str, time_zone: str = "UTC", team: Team | None = None) -> Team:
    """Create a team, or rename / re-zone `team`."""
    from zoneinfo import available_timezones

    _require_admin(by)
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationError({"name": "a team needs a name"})
    if time_zone not in available_timezones():
        raise ValidationError(
            {"time_zone": f"{time_zone!r} is not a time zone (e.g. Europe/Berlin)"}
        )
    clash = Team.objects.filter(name__iexact=name).exclude(pk=getattr(team, "pk", None))
    if clash.exists():
        raise ValidationError({"name": f"there is already a team called {name}"})
    created = team is None
    before = {} if created else {"name": team.name, "time_zone": team.time_zone}
    team = team or Team()
    team.name, team.time_zone = name, time_zone
    team.save()
    after = {"name": name, "time_zone": time_zone}
    changes = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    record_change(
        team, action=AuditAction.CREATE if created else AuditAction.UPDATE, changes=changes
    )
    return team
