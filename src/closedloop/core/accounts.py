"""Your own account: change your password, reset a forgotten one by email, the login lockout.

Django's auth views do the work (hashing, one-use signed reset tokens, session rotation);
django-axes counts failed logins per account and per address
(docs/decisions/0013-login-hardening.md).
These are the few pieces closedloop adds around them.
"""

from __future__ import annotations

import os
import threading

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from axes.utils import reset as reset_lockouts
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from closedloop.core.ratelimit import client_address, hit, parse_rate

# The page where a one-use e-mailed link lets someone choose a password: a reset here, an
# invitation in core.settings_views; one template, each view with its own words.
CHOOSE_PASSWORD_TEMPLATE = "core/choose_password.html"

# A password check is a deliberately slow key derivation (~0.3 s of one core). A flood of them
# at once would take every core from everyone else, so a process checks at most this many
# passwords at a time; a login that finds them all busy is refused at once (503, retry) and
# counts as a failed attempt, so a flood reaches its lockout quickly.
_CHECKS_AT_ONCE = max(1, (os.cpu_count() or 2) // 2)
_password_checks = threading.BoundedSemaphore(_CHECKS_AT_ONCE)
_LOCKED_ADDRESS = "closedloop:login-locked:{}"


def login_username(request, credentials: dict | None) -> str:
    """The account a login attempt is counted against: its email, trimmed and lower-cased.

    Without this, `Alice@x` and `alice@x` would be two accounts to the lockout and an attacker
    would get a fresh allowance of guesses per spelling.
    """
    return str((credentials or {}).get("username") or "").strip().lower()


def login_address(request) -> str | None:
    """The client address axes counts; None for a request without one (tests, scripts)."""
    address = client_address(request)
    return None if address == "unknown" else address


def lockout_response(request, original_response=None, credentials=None):
    """The styled 429 page shown while logins are paused."""
    context = {"minutes": settings.LOGIN_LOCKOUT_MINUTES}
    return render(request, "core/locked_out.html", context, status=429)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for web log-ins only.

    A call without a request (a script or test checking a password) has no client to count
    or lock out; axes would refuse it outright, so it passes straight to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class ThrottledModelBackend(ModelBackend):
    """Django's ModelBackend, checking at most _CHECKS_AT_ONCE passwords at a time."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not _password_checks.acquire(blocking=False):
            if request is not None:
                request.login_busy = True
            raise PermissionDenied("too many password checks at once")
        try:
            return super().authenticate(request, username, password, **kwargs)
        finally:
            _password_checks.release()


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(self.request, "login_busy", False):
            response.status_code = 503
            response["Retry-After"] = "1"
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["login_busy"] = getattr(self.request, "login_busy", False)
        return context


@receiver(user_locked_out, dispatch_uid="closedloop-remember-locked-address")
def remember_locked_address(sender, request=None, ip_address=None, **kwargs):
    """Note a locked-out address in the cache, so LockedAddressMiddleware turns it away early.

    Only when the address itself used up its attempts: an account locked by guesses from
    elsewhere must not shut its owner's (maybe shared) address out of everybody's log-in.
    """
    if ip_address and _address_failures(ip_address) >= settings.AXES_FAILURE_LIMIT:
        cache.set(_LOCKED_ADDRESS.format(ip_address), True, settings.LOGIN_LOCKOUT_MINUTES * 60)


def _address_failures(ip_address: str) -> int:
    from axes.models import AccessAttempt

    total = AccessAttempt.objects.filter(ip_address=ip_address).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


def forget_locked_addresses(*addresses: str) -> None:
    cache.delete_many([_LOCKED_ADDRESS.format(address) for address in addresses])


class LockedAddressMiddleware:
    """Answers the login page of a locked-out address with the lockout page, first thing.

    django-axes refuses such an attempt only after sessions, CSRF and the login form have run;
    under a flood those add up. This answers from one cache lookup instead. Only the login page
    is turned away: the address may still use everything else (a shared office address).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == settings.LOGIN_PATH and cache.get(
            _LOCKED_ADDRESS.format(client_address(request))
        ):
            return _locked_page()
        return self.get_response(request)


def locked_address_gate(app):
    """WSGI: the lockout page for a locked-out address's /login/, before Django runs at all.

    LockedAddressMiddleware does the same inside Django; under a flood, skipping Django's
    request handling too roughly halves what each refused attempt costs the server.
    """
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", "default-src 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
    ]

    def gate(environ, start_response):
        address = environ.get("REMOTE_ADDR") or "unknown"
        if environ.get("PATH_INFO") == settings.LOGIN_PATH and cache.get(
            _LOCKED_ADDRESS.format(address)
        ):
            minutes = settings.LOGIN_LOCKOUT_MINUTES
            body = _LOCKED_HTML.format(minutes=minutes).encode()
            extra = [("Content-Length", str(len(body))), ("Retry-After", str(minutes * 60))]
            start_response("429 Too Many Requests", headers + extra)
            return [body]
        return app(environ, start_response)

    return gate


def _locked_page() -> HttpResponse:
    # A fixed page, not a template: during a flood this is nearly all the server does.
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    response = HttpResponse(_LOCKED_HTML.format(minutes=minutes), status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


_LOCKED_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many attempts</title>'
    "</head><body><h1>Too many failed log-ins</h1><p>After too many wrong passwords, logging in "
    "from this address is paused for {minutes} minutes.</p>"
    '<p><a href="/password/reset/">Choose a new password by email</a></p></body></html>'
)


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for a reset link; limited per client address so nobody can flood inboxes."""

    template_name = "core/password_reset.html"
    email_template_name = "core/password_reset_email.txt"
    subject_template_name = "core/password_reset_subject.txt"
    extra_email_context = {"timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400}

    def post(self, request, *args, **kwargs):
        rate = parse_rate(settings.PASSWORD_RESET_RATE_LIMIT)
        if rate is not None and not hit(f"password-reset:{client_address(request)}", rate).allowed:
            context = {"minutes": max(1, rate.seconds // 60)}
            return render(request, "core/password_reset_busy.html", context, status=429)
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "core/password_reset_done.html"
    extra_context = {"timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Sets the new password; a lockout of that account ends with it (the owner proved it)."""

    template_name = CHOOSE_PASSWORD_TEMPLATE
    extra_context = {
        "heading": "Choose a new password",
        "expired": "It was used already, has expired, or the password changed since it was sent.",
        "retry_url": reverse_lazy("password_reset"),
    }

    def form_valid(self, form):
        response = super().form_valid(form)
        reset_lockouts(username=login_username(None, {"username": form.user.get_username()}))
        forget_locked_addresses(client_address(self.request))
        return response
