"""Logging in safely: lockout after wrong passwords, changing and resetting your password, CSP."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

PASSWORD = "pw-for-tests"  # what tests.factories.make_user sets


@pytest.fixture(autouse=True)
def _clean_lockouts(db):
    from axes.utils import reset
    from django.core.cache import cache

    reset()
    cache.clear()
    yield
    reset()
    cache.clear()


def log_in(client: Client, email: str, password: str, *, ip: str = "198.51.100.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_account_even_with_the_right_one_after(alice):
    client = Client()
    statuses = [log_in(client, alice.email, "wrong").status_code for _ in range(5)]
    locked = log_in(client, alice.email, PASSWORD)
    assert statuses[:4] == [200, 200, 200, 200]  # the form again, with an error
    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_the_account_lockout_holds_from_another_address_and_in_another_letter_case(alice):
    for n in range(5):
        log_in(Client(), alice.email, "wrong", ip=f"198.51.100.{n + 10}")
    other = log_in(Client(), alice.email.upper(), PASSWORD, ip="203.0.113.99")
    assert other.status_code == 429


def test_one_address_guessing_many_accounts_is_locked_out(alice, bob):
    client = Client()
    for n in range(5):
        log_in(client, f"nobody{n}@example.com", "wrong", ip="192.0.2.50")
    assert log_in(client, bob.email, PASSWORD, ip="192.0.2.50").status_code == 429
    # Bob himself, from his own address, is not affected.
    assert log_in(Client(), bob.email, PASSWORD, ip="192.0.2.51").status_code == 302


def test_a_locked_out_attempt_never_checks_the_password(alice, monkeypatch):
    client = Client()
    for _ in range(5):
        log_in(client, alice.email, "wrong")
    from django.contrib.auth.backends import ModelBackend

    def refuse(*args, **kwargs):
        raise AssertionError("the password was checked during a lockout")

    monkeypatch.setattr(ModelBackend, "authenticate", refuse)
    assert log_in(client, alice.email, "wrong").status_code == 429


def test_a_right_password_before_the_limit_logs_in_and_clears_the_count(alice):
    client = Client()
    for _ in range(4):
        log_in(client, alice.email, "wrong")
    assert log_in(client, alice.email, PASSWORD).status_code == 302
    for _ in range(4):
        log_in(Client(), alice.email, "wrong")
    assert log_in(Client(), alice.email, PASSWORD).status_code == 302


def test_a_user_changes_their_own_password_with_the_old_one(client, alice):
    client.force_login(alice)
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    wrong = client.post(
        reverse("password_change"),
        {
            "old_password": "nope",
            "new_password1": "N3w-long-pass!",
            "new_password2": "N3w-long-pass!",
        },
    )
    assert wrong.status_code == 200 and b"incorrect" in wrong.content
    done = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "N3w-long-pass!",
            "new_password2": "N3w-long-pass!",
        },
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("N3w-long-pass!")


def test_the_password_pages_need_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "N3w-long-pass!",
            "new_password2": "N3w-long-pass!",
        },
    )
    assert response.status_code == 403
    reset = Client(enforce_csrf_checks=True).post(reverse("password_reset"), {"email": "a@b.c"})
    assert reset.status_code == 403


def test_the_login_page_links_to_reset_and_the_menu_to_change(client, alice):
    assert reverse("password_reset").encode() in client.get(reverse("login")).content
    client.force_login(alice)
    assert reverse("password_change").encode() in client.get(reverse("tokens")).content


def test_a_forgotten_password_is_reset_through_a_one_use_emailed_link(client, alice):
    for n in range(5):
        log_in(Client(), alice.email, "wrong", ip=f"198.51.100.{n + 40}")  # the reset ends it
    sent = client.post(reverse("password_reset"), {"email": alice.email.upper()})
    assert sent.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [alice.email]
    link = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    confirm_url = form.redirect_chain[-1][0]
    done = client.post(
        confirm_url, {"new_password1": "Fresh-pass-123", "new_password2": "Fresh-pass-123"}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert log_in(Client(), alice.email, "Fresh-pass-123").status_code == 302
    again = client.get(link, follow=True)
    assert b"This link no longer works" in again.content


def test_a_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_reset_requests_are_limited_per_address(client, alice, settings):
    settings.PASSWORD_RESET_RATE_LIMIT = "2/hour"
    statuses = [
        client.post(
            reverse("password_reset"), {"email": alice.email}, REMOTE_ADDR="192.0.2.9"
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_every_page_carries_a_content_security_policy_without_unsafe_inline(client, alice):
    client.force_login(alice)
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_no_template_has_inline_script_style_or_event_handler():
    from pathlib import Path

    import closedloop

    offenders = []
    pattern = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|<style|\sstyle=|\son[a-z]+=|javascript:"
    )
    for path in Path(closedloop.__file__).parent.rglob("templates/**/*.html"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"{path}:{number}: {line.strip()[:80]}")
    assert offenders == []


def test_a_locked_out_address_gets_the_lockout_page_before_any_session_or_form_work(alice):
    for n in range(5):
        log_in(Client(), f"x{n}@example.com", "wrong", ip="192.0.2.77")
    page = Client().get(reverse("login"), REMOTE_ADDR="192.0.2.77")
    assert page.status_code == 429 and b"Too many failed log-ins" in page.content
    assert "Set-Cookie" not in page.headers  # answered before sessions and CSRF ran
    assert Client().get(reverse("login"), REMOTE_ADDR="192.0.2.78").status_code == 200


def test_an_account_locked_from_elsewhere_does_not_shut_its_owners_address_out(alice, bob):
    for n in range(5):
        log_in(Client(), alice.email, "wrong", ip=f"198.51.100.{n + 30}")
    log_in(Client(), alice.email, PASSWORD, ip="192.0.2.80")  # Alice, at the office: refused
    assert log_in(Client(), bob.email, PASSWORD, ip="192.0.2.80").status_code == 302


def test_a_login_that_finds_every_password_check_busy_is_refused_at_once(alice, monkeypatch):
    from closedloop.core import accounts

    busy = accounts.threading.BoundedSemaphore(1)
    busy.acquire()
    monkeypatch.setattr(accounts, "_password_checks", busy)
    response = log_in(Client(), alice.email, PASSWORD)
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert b"Too many log-ins at this moment" in response.content
    busy.release()
    assert log_in(Client(), alice.email, PASSWORD).status_code == 302


def test_the_wsgi_gate_answers_a_locked_address_before_django(alice):
    from closedloop.core.accounts import locked_address_gate

    for n in range(5):
        log_in(Client(), f"y{n}@example.com", "wrong", ip="192.0.2.90")

    def django(environ, start_response):
        if environ["REMOTE_ADDR"] == "192.0.2.90":
            raise AssertionError("Django was reached for the locked address")
        return [b"django"]

    gate = locked_address_gate(django)
    seen = {}
    body = gate(
        {"PATH_INFO": "/login/", "REMOTE_ADDR": "192.0.2.90", "REQUEST_METHOD": "POST"},
        lambda status, headers: seen.update(status=status, headers=dict(headers)),
    )
    assert seen["status"].startswith("429") and seen["headers"]["Retry-After"] == "900"
    assert b"Too many failed log-ins" in b"".join(body)
    assert gate({"PATH_INFO": "/login/", "REMOTE_ADDR": "192.0.2.91"}, None) == [b"django"]
