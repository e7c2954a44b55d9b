"""What the SLA page and the feedback report show, computed from the records.

Thin adapters: they read rows, hand plain numbers to `engine`, and return dicts the pages,
the API and the digest share.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from closedloop.core.models import Role, User, display_name
from closedloop.crm.models import LeadSource, LifecycleStage, StageChange
from closedloop.handoff import engine
from closedloop.handoff.models import Acceptance, LeadSla, Rejection
from closedloop.handoff.sla import calendars_for_teams, sla_numbers


def sla_report(*, weeks: int = 12, now: datetime | None = None, team_id: int | None = None) -> dict:
    """Both sides of the SLA over the last `weeks` weeks.

    sales: median / p95 working minutes to first touch, first-touch compliance (share of
    decided clocks met) by rep, by team and by week. A lead rejected without any contact is
    decided and *not* met, and is counted apart as "rejected without contact" (its rep from the
    rejection, since rejecting releases the owner): rejecting cannot game the SLA.
    marketing: MQLs delivered per month against the promise (mql_per_rep_month × active reps)
    and the accept rate against its floor.
    """
    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    tally = _Tally()
    _count_clocks(tally, _clock_rows(since, team_id), now=now)
    _count_uncontacted(tally, since=since, now=now, team_id=team_id)
    return {
        "numbers": dataclasses.asdict(sla_numbers()),
        "first_touch": {
            "median_minutes": engine.percentile(tally.minutes, 50),
            "p95_minutes": engine.percentile(tally.minutes, 95),
            "touched": len(tally.minutes),
        },
        "rejected_without_contact": tally.uncontacted,
        "by_rep": _compliance(tally.by_rep),
        "by_team": _compliance(tally.by_team),
        "weeks": [
            {
                "week": week.isoformat(),
                "compliance": engine.share(v["met"], v["decided"]),
                "median_minutes": engine.percentile(v["minutes"], 50),
                "decided": v["decided"],
                "rejected_without_contact": v["uncontacted"],
            }
            for week, v in sorted(tally.by_week.items())
        ],
        "marketing": marketing_delivery(now=now, months=3),
    }


class _Tally:
    def __init__(self) -> None:
        self.minutes: list[float] = []
        self.uncontacted = 0
        self.by_rep: dict = defaultdict(Counter)
        self.by_team: dict = defaultdict(Counter)
        self.by_week: dict = defaultdict(
            lambda: {"met": 0, "decided": 0, "minutes": [], "uncontacted": 0}
        )

    def decide(self, *, rep: str, team: str, week: date, met: int, uncontacted: bool) -> None:
        for counter in (self.by_rep[rep], self.by_team[team]):
            counter["decided"] += 1
            counter["met"] += met
            counter["uncontacted"] += uncontacted
        self.by_week[week]["decided"] += 1
        self.by_week[week]["met"] += met
        self.by_week[week]["uncontacted"] += uncontacted
        self.uncontacted += uncontacted


def _clock_rows(since: datetime, team_id: int | None) -> list[dict]:
    # Clocks that stopped without contact are counted from their rejections instead.
    timers = LeadSla.objects.filter(started_at__gte=since, lead__owner__isnull=False).exclude(
        first_touched_at__isnull=True, closed_at__isnull=False
    )
    if team_id:
        timers = timers.filter(lead__owner__team_id=team_id)
    return list(
        timers.values(
            "started_at",
            "first_touch_due",
            "first_touched_at",
            "closed_at",
            "lead__owner_id",
            "lead__owner__email",
            "lead__owner__first_name",
            "lead__owner__last_name",
            "lead__owner__team_id",
            "lead__owner__team__name",
        )
    )


def _count_clocks(tally: _Tally, rows: list[dict], *, now: datetime) -> None:
    calendars = calendars_for_teams({r["lead__owner__team_id"] for r in rows})
    for row in rows:
        outcome = _outcome(row, now)
        if outcome is None:
            continue  # clock still running within its deadline: not decided yet
        week = engine.week_start(row["started_at"])
        if row["first_touched_at"]:
            spent = engine.working_minutes_between(
                row["started_at"], row["first_touched_at"], calendars[row["lead__owner__team_id"]]
            )
            tally.minutes.append(spent)
            tally.by_week[week]["minutes"].append(spent)
        rep = display_name(
            row["lead__owner__first_name"], row["lead__owner__last_name"], row["lead__owner__email"]
        )
        team = row["lead__owner__team__name"] or "No team"
        tally.decide(rep=rep, team=team, week=week, met=outcome, uncontacted=False)


def _count_uncontacted(tally: _Tally, *, since: datetime, now: datetime, team_id) -> None:
    rejections = Rejection.objects.filter(contacted=False, at__gte=since, at__lte=now)
    if team_id:
        rejections = rejections.filter(rep__team_id=team_id)
    rows = rejections.values(
        "at", "rep__email", "rep__first_name", "rep__last_name", "rep__team__name"
    )
    for row in rows:
        rep = display_name(row["rep__first_name"], row["rep__last_name"], row["rep__email"])
        team = row["rep__team__name"] or "No team"
        week = engine.week_start(row["at"])
        tally.decide(rep=rep or "nobody", team=team, week=week, met=0, uncontacted=True)


def _outcome(row: dict, now: datetime) -> int | None:
    touched, due = row["first_touched_at"], row["first_touch_due"]
    if touched is not None:
        return int(touched <= due)
    return 0 if now > due else None


def _compliance(counters: dict) -> list[dict]:
    return sorted(
        (
            {
                "name": name,
                "met": c["met"],
                "decided": c["decided"],
                "compliance": engine.share(c["met"], c["decided"]),
                "rejected_without_contact": c["uncontacted"],
            }
            for name, c in counters.items()
        ),
        key=lambda r: (r["compliance"] if r["compliance"] is not None else 2, r["name"]),
    )


def marketing_delivery(*, now: datetime, months: int) -> list[dict]:
    """Per calendar month: MQLs delivered vs promised, and sales' accept rate vs the floor."""
    numbers = sla_numbers()
    reps = User.objects.filter(role=Role.REP, is_active=True).count()
    first = _month_start(now.date())
    for _ in range(months - 1):
        first = _month_start(first - timedelta(days=1))
    result = []
    while first <= now.date():
        nxt = _month_start(first + timedelta(days=32))
        span = {"at__date__gte": first, "at__date__lt": nxt}
        delivered = (
            StageChange.objects.filter(to_stage=LifecycleStage.MQL, **span)
            .values("lead")
            .distinct()
            .count()
        )
        accepted = Acceptance.objects.filter(**span).count()
        rejected = Rejection.objects.filter(**span).count()
        rate = engine.share(accepted, accepted + rejected)
        promised = numbers.mql_per_rep_month * reps
        result.append(
            {
                "month": first.strftime("%Y-%m"),
                "delivered": delivered,
                "promised": promised,
                "accepted": accepted,
                "rejected": rejected,
                "accept_rate": rate,
                "accept_rate_floor": numbers.accept_rate_floor,
                "met": delivered >= promised
                and (rate is None or rate >= numbers.accept_rate_floor),
            }
        )
        first = nxt
    return result


def _month_start(day: date) -> date:
    return day.replace(day=1)


# -- the feedback report --------------------------------------------------------------------


def feedback_report(
    *, since: datetime, until: datetime | None = None, limit_notes: int = 200
) -> dict:
    """What sales said: rejection counts by reason, and by reason within campaign, source and
    rep, plus the latest notes. Everything since `since` (and before `until`)."""
    rows = Rejection.objects.filter(at__gte=since)
    if until:
        rows = rows.filter(at__lt=until)
    total = rows.count()
    by_reason = list(rows.values("reason__label").annotate(n=Count("id")).order_by("-n"))
    return {
        "total": total,
        "accepted": Acceptance.objects.filter(at__gte=since).count(),
        "by_reason": [{"reason": r["reason__label"], "count": r["n"]} for r in by_reason],
        "by_campaign": _grouped(rows, "campaign__name", "No campaign"),
        "by_source": _grouped(rows, "source", "unknown", labels=dict(LeadSource.choices)),
        "by_rep": _by_rep(rows),
        "notes": [
            {
                "lead_id": r.lead_id,
                "lead": str(r.lead),
                "reason": r.reason.label,
                "note": r.note,
                "rep": r.rep.email if r.rep else None,
                "rep_name": r.rep.display_name if r.rep else None,
                "campaign": r.campaign.name if r.campaign else None,
                "source": LeadSource(r.source).label if r.source in LeadSource.values else r.source,
                "at": r.at.isoformat(),
                "at_display": f"{r.at:%Y-%m-%d %H:%M}",
            }
            for r in rows.exclude(note="").select_related("lead", "reason", "rep", "campaign")[
                :limit_notes
            ]
        ],
    }


def _grouped(rows, field: str, blank: str, labels: dict | None = None) -> list[dict]:
    groups: dict[str, dict] = {}
    for row in rows.values(field, "reason__label").annotate(n=Count("id")):
        name = (labels or {}).get(row[field], row[field]) or blank
        group = groups.setdefault(name, {"name": name, "total": 0, "reasons": {}})
        group["total"] += row["n"]
        group["reasons"][row["reason__label"]] = row["n"]
    return sorted(groups.values(), key=lambda g: -g["total"])


def _by_rep(rows) -> list[dict]:
    """Rejections per rep, by reason; reps are shown by name (e-mail only when nameless)."""
    fields = ("rep__first_name", "rep__last_name", "rep__email")
    groups: dict[str, dict] = {}
    for row in rows.values(*fields, "reason__label").annotate(n=Count("id")):
        name = display_name(*(row[f] for f in fields)) or "nobody"
        group = groups.setdefault(name, {"name": name, "total": 0, "reasons": {}})
        group["total"] += row["n"]
        group["reasons"][row["reason__label"]] = row["n"]
    return sorted(groups.values(), key=lambda g: -g["total"])


def send_digest(*, days: int = 7, now: datetime | None = None) -> int:
    """Email every active marketing user what sales said in the last `days` days; returns how
    many were sent (none when there was no feedback)."""
    now = now or timezone.now()
    report = feedback_report(since=now - timedelta(days=days), until=now, limit_notes=50)
    recipients = list(
        User.objects.filter(role=Role.MARKETING, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients or not (report["total"] or report["accepted"]):
        return 0
    body = render_to_string("handoff/digest.txt", {"report": report, "days": days, "now": now})
    subject = (
        f"[closedloop] What sales said this week: {report['accepted']} accepted, "
        f"{report['total']} rejected"
    )
    for address in recipients:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)
    return len(recipients)
