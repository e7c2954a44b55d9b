"""The weekly scoreboard email to both teams: last week's figures, for each reader's scope.

Marketing, executives and admins get the company's figures; reps and managers their team's
(`scope_for`), so no email shows anyone numbers the scoreboard would not. Sent by the worker
(`tasks.send_weekly_scoreboard`) through Django's mail.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from closedloop.analytics.scope import Scope, scope_for
from closedloop.analytics.scoreboard import compute_scoreboard
from closedloop.analytics.snapshots import Period, day_start
from closedloop.core.models import Role, User

READERS = (Role.MARKETING, Role.REP, Role.MANAGER, Role.EXECUTIVE, Role.ADMIN)


def last_week() -> Period:
    """The seven whole days (UTC) before today."""
    today = day_start(timezone.now().date())
    return Period(today - timedelta(days=7), today)


def send_scoreboard_email() -> int:
    """Email every active reader the figures of their scope for last week; returns the count."""
    readers = User.objects.filter(role__in=READERS, is_active=True).exclude(email="")
    by_scope: dict[Scope, list[str]] = defaultdict(list)
    for user in readers:
        by_scope[scope_for(user)].append(user.email)
    period = last_week()
    sent = 0
    for scope, addresses in by_scope.items():
        figures = compute_scoreboard(scope=scope, since=period.since, until=period.until)
        body = render_to_string(
            "analytics/scoreboard_email.txt",
            {"figures": figures["figures"], "scope": scope.label(), "period": period},
        )
        subject = f"closedloop scoreboard, {period.label}: {scope.label()}"
        for address in addresses:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)
            sent += 1
    return sent
