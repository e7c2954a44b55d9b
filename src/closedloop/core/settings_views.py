"""Settings in the app (admins): users and invitations, teams; the hub links the other apps'
settings pages (rejection reasons, contract signers). The set-password page is public: the
link's token is the credential."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from closedloop.core import people
from closedloop.core.accounts import CHOOSE_PASSWORD_TEMPLATE
from closedloop.core.models import Role, Team, User


def require_admin(user: User) -> None:
    if user.role != Role.ADMIN:
        raise PermissionDenied("settings are for admins")


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "message_dict"):
        return {field: messages_[0] for field, messages_ in exc.message_dict.items()}
    return {"__all__": exc.messages[0]}


def _team(raw: str) -> Team | None:
    return Team.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


@login_required
def settings_home(request):
    require_admin(request.user)
    return render(request, "core/settings/home.html", {"tab": "home"})


@login_required
@require_http_methods(["GET", "POST"])
def users(request):
    """Everyone with an account, and the invitation form."""
    require_admin(request.user)
    errors, form, link = {}, request.POST, None
    if request.method == "POST":
        try:
            user = people.invite_user(
                by=request.user,
                email=form.get("email", ""),
                role=form.get("role", ""),
                team=_team(form.get("team", "")),
                first_name=form.get("first_name", ""),
                last_name=form.get("last_name", ""),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            people.send_invitation(user, base_url=request.build_absolute_uri("/"))
            link = request.build_absolute_uri(people.invitation_path(user))
            messages.success(request, f"{user.display_name or user.email} is invited by e-mail.")
            form = {}
    context = {
        "tab": "users",
        "people": User.objects.select_related("team").order_by("-is_active", "first_name", "email"),
        "roles": Role.choices,
        "teams": Team.objects.all(),
        "errors": errors,
        "form": form,
        "link": link,
    }
    return render(request, "core/settings/users.html", context, status=422 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int):
    require_admin(request.user)
    person = get_object_or_404(User.objects.select_related("team"), pk=pk)
    errors = {}
    if request.method == "POST":
        try:
            people.change_user(
                person,
                by=request.user,
                role=request.POST.get("role", ""),
                team=_team(request.POST.get("team", "")),
                is_active=request.POST.get("is_active") == "1",
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"{person.display_name} saved.")
            return redirect("settings-users")
    context = {
        "tab": "users",
        "person": person,
        "roles": Role.choices,
        "teams": Team.objects.all(),
        "errors": errors,
    }
    return render(request, "core/settings/user_edit.html", context, status=422 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def teams(request):
    """Teams: add one, or rename / re-zone one (the form names it by `team`)."""
    require_admin(request.user)
    errors, form = {}, request.POST
    if request.method == "POST":
        existing = _team(form.get("team", ""))
        try:
            team = people.save_team(
                by=request.user,
                name=form.get("name", ""),
                time_zone=form.get("time_zone", "UTC").strip() or "UTC",
                team=existing,
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"Team {team.name} saved.")
            return redirect("settings-teams")
    context = {"tab": "teams", "teams": Team.objects.all(), "errors": errors, "form": form}
    return render(request, "core/settings/teams.html", context, status=422 if errors else 200)


@require_http_methods(["GET", "POST"])
def set_password(request, uidb64: str, token: str):
    """An invited user chooses a password through the link from their e-mail (the page the
    password reset uses, with the invitation's words)."""
    user = people.user_for_invitation(uidb64, token)
    context = {
        "validlink": user is not None,
        "expired": "It was used already, or it expired. Ask an admin for a new invitation.",
    }
    if user is None:
        return render(request, CHOOSE_PASSWORD_TEMPLATE, context, status=404)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if form.is_valid():
        people.set_password_from_invitation(
            user, password1=form.data["new_password1"], password2=form.data["new_password2"]
        )
        messages.success(request, "Your password is set. Log in with your e-mail address.")
        return redirect("login")
    context |= {
        "form": form,
        "heading": f"Welcome, {user.display_name}",
        "intro": f"Choose the password you will log in with, together with {user.email}.",
    }
    return render(request, CHOOSE_PASSWORD_TEMPLATE, context, status=422 if form.errors else 200)
