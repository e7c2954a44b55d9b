"""Settings in the app: admins invite people (who set their own password through the link),
change roles and teams, deactivate, manage teams and rejection reasons; all audited."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core import mail

from closedloop.core.models import AuditEntry, Role, Team, User
from closedloop.handoff.models import RejectionPath, RejectionReason

pytestmark = pytest.mark.django_db


def invite(client, **fields):
    data = {"email": "nina@example.com", "role": Role.REP, "first_name": "Nina", **fields}
    return client.post("/settings/users/", data)


def test_an_invited_user_sets_a_password_through_the_emailed_link_which_then_expires(
    client, ada, east
):
    client.force_login(ada)
    response = invite(client, team=east.pk)
    assert response.status_code == 200 and "Nina is invited by e-mail" in response.content.decode()
    nina = User.objects.get(email="nina@example.com")
    assert nina.team == east and not nina.has_usable_password()
    (message,) = mail.outbox
    assert message.to == ["nina@example.com"]
    path = re.search(r"https?://[^/]+(/welcome/\S+/)", message.body)[1]

    client.logout()
    form = client.get(path)
    assert form.status_code == 200 and "Welcome, Nina" in form.content.decode()
    short = client.post(path, {"new_password1": "abc", "new_password2": "abc"})
    assert short.status_code == 422 and "new_password2" in short.content.decode()
    done = client.post(
        path, {"new_password1": "a long passphrase 42", "new_password2": "a long passphrase 42"}
    )
    assert done.status_code == 302 and done.url == "/login/"
    assert authenticate(username="nina@example.com", password="a long passphrase 42") == nina
    assert client.get(path).status_code == 404  # the link works once
    assert AuditEntry.objects.filter(model="core.user", object_id=str(nina.pk)).count() == 2


def test_a_forged_or_mangled_link_sets_nothing(client, ada):
    assert client.get("/welcome/Mw/not-a-token/").status_code == 404
    assert client.get("/welcome/%%%/x/").status_code == 404


def test_a_bad_invitation_names_the_field(client, ada):
    client.force_login(ada)
    response = invite(client, email="not-an-address")
    assert response.status_code == 422 and "email: " in response.content.decode()
    response = invite(client, role=Role.REP)  # a rep needs a team
    assert response.status_code == 422 and "team: reps and managers belong to a team" in (
        response.content.decode()
    )
    assert not User.objects.filter(email="nina@example.com").exists()


def test_only_admins_reach_the_settings(client, alice, max_manager, mia):
    for user in (alice, max_manager, mia):
        client.force_login(user)
        for path in ("/settings/", "/settings/users/", "/settings/teams/", "/settings/reasons/"):
            assert client.get(path).status_code == 403
        assert client.get("/settings/signers/").status_code == 403


def test_an_admin_changes_a_role_and_team_and_deactivates_with_an_audit_trail(client, ada, alice):
    west = Team.objects.create(name="West")
    client.force_login(ada)
    client.post(f"/settings/users/{alice.pk}/", {"role": Role.MANAGER, "team": west.pk})
    alice.refresh_from_db()
    assert (alice.role, alice.team, alice.is_active) == (Role.MANAGER, west, False)
    entry = AuditEntry.objects.get(model="core.user", object_id=str(alice.pk))
    assert entry.actor == ada and entry.changes["role"] == ["rep", "manager"]
    assert entry.changes["is_active"] == [True, False]


def test_an_admin_cannot_remove_their_own_admin_access(client, ada):
    client.force_login(ada)
    response = client.post(f"/settings/users/{ada.pk}/", {"role": Role.REP, "is_active": "1"})
    assert response.status_code == 422
    ada.refresh_from_db()
    assert ada.role == Role.ADMIN


def test_teams_are_added_and_renamed_and_a_bad_time_zone_is_refused(client, ada, east):
    client.force_login(ada)
    client.post("/settings/teams/", {"name": "Nordics", "time_zone": "Europe/Oslo"})
    assert Team.objects.get(name="Nordics").time_zone == "Europe/Oslo"
    client.post("/settings/teams/", {"team": east.pk, "name": "East Coast", "time_zone": "UTC"})
    east.refresh_from_db()
    assert east.name == "East Coast"
    refused = client.post("/settings/teams/", {"name": "Mars", "time_zone": "Mars/Olympus"})
    assert refused.status_code == 422 and "time_zone" in refused.content.decode()
    assert AuditEntry.objects.filter(model="core.team").count() == 2


def test_rejection_reasons_are_managed_in_settings_and_audited(client, ada):
    client.force_login(ada)
    client.post(
        "/settings/reasons/",
        {
            "label": "Not now: fiscal year end",
            "path": RejectionPath.RECYCLE,
            "recycle_days": "60",
            "is_active": "1",
        },
    )
    reason = RejectionReason.objects.get(label="Not now: fiscal year end")
    assert reason.code == "not-now-fiscal-year-end" and reason.recycle_days == 60
    client.post(
        "/settings/reasons/",
        {"reason": reason.pk, "label": reason.label, "path": reason.path, "recycle_days": "45"},
    )
    reason.refresh_from_db()
    assert reason.recycle_days == 45 and not reason.is_active
    bad = client.post("/settings/reasons/", {"label": "X", "path": "vanish", "recycle_days": "5"})
    assert bad.status_code == 422 and "path: must be one of" in bad.content.decode()
    assert AuditEntry.objects.filter(model="handoff.rejectionreason").count() == 2
