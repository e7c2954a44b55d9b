"""Pages: the rep's inbox (with htmx actions), the unassigned queue, disputes, the SLA page and
the feedback report. Business rules live in services; these functions check, call and render."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from closedloop.core.models import Role, User
from closedloop.core.permissions import visible
from closedloop.crm.filters import SCORE_BANDS
from closedloop.crm.models import ActivityKind, ActivityOutcome, Lead, LeadSource, LifecycleStage
from closedloop.handoff import inbox as inbox_list
from closedloop.handoff import reports, services, work
from closedloop.handoff.lead_views import log_activity_from_form
from closedloop.handoff.models import (
    Dispute,
    DisputeStatus,
    Notification,
    RejectionPath,
    RejectionReason,
)
from closedloop.handoff.sla import OPEN_STAGES, calendars_for_teams, timers_for

INBOX_LIMIT = 300
SALES_ROLES = (Role.REP, Role.MANAGER, Role.ADMIN)


def _require_sales(user: User) -> None:
    if user.role not in SALES_ROLES:
        raise PermissionDenied("the inbox is for sales reps and managers")


def inbox_items(leads, *, now: datetime, limit: int = INBOX_LIMIT) -> list[dict]:
    """The `limit` most urgent of `leads` (ranked over all of them, not the newest few) with
    their timers, score reasons and priority (score × SLA urgency), most urgent first."""
    ranked = inbox_list.rank(leads, now=now)[:limit]
    loaded = leads.model.objects.select_related("owner", "sla").in_bulk([r.pk for r in ranked])
    rows = [(loaded[r.pk], r.priority) for r in ranked if r.pk in loaded]
    calendars = calendars_for_teams({lead.owner.team_id for lead, _ in rows if lead.owner_id})
    return [
        {
            "lead": lead,
            "timers": _timers(lead, now=now, calendars=calendars),
            "priority": priority,
            "reasons": _reasons(lead),
        }
        for lead, priority in rows
    ]


def _timers(lead: Lead, *, now: datetime, calendars: dict) -> list:
    timer = getattr(lead, "sla", None)
    if timer is None:
        return []
    calendar = calendars.get(lead.owner.team_id if lead.owner_id else None)
    return timers_for(lead, now=now, timer=timer, calendar=calendar)


def _reasons(lead: Lead) -> list[dict]:
    reasons = []
    for reason in lead.score_reasons or []:
        if isinstance(reason, dict) and reason.get("text"):
            effect = reason.get("effect", 0) or 0
            reasons.append({"text": reason["text"], "effect": effect, "up": effect >= 0})
    return reasons[:5]


TABS = {"mine": "Mine", "team": "Team (claim)", "queue": "Unassigned queue"}


def _tab(user: User, raw: str) -> str:
    allowed = ("mine", "team") if user.role == Role.REP else ("team", "queue")
    legacy = {"mine": "team"} if user.role != Role.REP else {}
    raw = legacy.get(raw, raw)
    return raw if raw in allowed else allowed[0]


def _scope(request, tab: str):
    """The leads the tab lists (open ones are picked later), already limited to the user."""
    user = request.user
    if tab == "queue":
        return inbox_list.unassigned(visible(Lead.objects.all(), user))
    if user.role == Role.REP:
        mine = Lead.objects.filter(owner=user)
        return (
            mine
            if tab == "mine"
            else Lead.objects.filter(owner__team_id=user.team_id).exclude(owner=user)
        )
    leads = visible(Lead.objects.filter(owner__isnull=False), user)
    rep_id = request.GET.get("rep", "")
    return leads.filter(owner_id=int(rep_id)) if rep_id.isdigit() else leads


@login_required
@require_GET
def inbox(request):
    """All of the user's open work, most urgent first, as a compact list with filters and
    pages; each line's card (timers, reasons, actions) is one click away."""
    user = request.user
    _require_sales(user)
    now = timezone.now()
    tab = _tab(user, request.GET.get("tab") or request.GET.get("view", ""))
    filters = inbox_list.parse_filters(request.GET)
    page = inbox_list.inbox_page(_scope(request, tab), filters, now=now)
    context = {
        "now": now,
        "tab": tab,
        "tabs": _tabs(user),
        "filters": filters,
        "page": page,
        "lines": _lines(page),
        "stages": [(str(s), LifecycleStage(s).label) for s in OPEN_STAGES],
        "sla_states": list(inbox_list.SLA_STATES.items()),
        "bands": list(SCORE_BANDS),
        "sources": LeadSource.choices,
        "claim": user.role == Role.REP and tab == "team",
        "team_reps": _team_reps(user) if user.can_reassign else None,
        "counts": _tab_counts(user),
    }
    if request.htmx and request.GET.get("partial") == "list":
        return render(request, "handoff/_inbox_list.html", context)
    context["notifications"] = list(
        Notification.objects.filter(user=user, read_at__isnull=True)[:10]
    )
    context["today"] = timezone.localdate(now)
    context["tasks_due"], context["tasks_due_count"] = work.open_tasks_due(
        user, today=context["today"]
    )
    return render(request, "handoff/inbox.html", context)


def _tabs(user: User) -> list[tuple[str, str]]:
    keys = ("mine", "team") if user.role == Role.REP else ("team", "queue")
    labels = {**TABS, "team": "Team inbox"} if user.role != Role.REP else TABS
    return [(key, labels[key]) for key in keys]


def _tab_counts(user: User) -> dict:
    if user.role == Role.REP:
        return {}
    queue = inbox_list.unassigned(visible(Lead.objects.all(), user)).count()
    disputes = Dispute.objects.filter(status=DisputeStatus.OPEN)
    if user.role == Role.MANAGER:
        disputes = disputes.filter(claimant__team_id=user.team_id)
    return {"queue": queue, "disputes": disputes.count()}


def _lines(page: inbox_list.InboxPage) -> list[dict]:
    ranked = page.rows
    leads = Lead.objects.select_related("owner").in_bulk([r.pk for r in ranked])
    return [
        {
            "lead": leads[r.pk],
            "priority": r.priority,
            "state": r.state,
            "state_label": inbox_list.SLA_STATES[r.state],
        }
        for r in ranked
        if r.pk in leads
    ]


@login_required
@require_GET
def card(request, pk: int):
    """One lead's inbox card (timers, score reasons, actions), fetched when its line opens."""
    _require_sales(request.user)
    return _row(request, _lead_for(request, pk))


def _team_reps(user: User):
    reps = User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER])
    return reps if user.role == Role.ADMIN else reps.filter(team_id=user.team_id)


@login_required
@require_GET
def inbox_poll(request):
    """htmx polling: a banner when leads arrived (or notifications came) since `since`."""
    _require_sales(request.user)
    try:
        since = datetime.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        return HttpResponse("since: expected an ISO 8601 timestamp", status=400)
    new = Lead.objects.filter(owner=request.user, assigned_at__gt=since).count()
    notes = Notification.objects.filter(
        user=request.user, at__gt=since, read_at__isnull=True
    ).count()
    return render(request, "handoff/_poll.html", {"new": new, "notes": notes})


def _row(request, lead: Lead, *, status: int = 200, message: str = ""):
    lead = Lead.objects.select_related("owner", "sla").get(pk=lead.pk)
    items = inbox_items(Lead.objects.filter(pk=lead.pk), now=timezone.now())
    return render(
        request,
        "handoff/_inbox_row.html",
        {
            "item": items[0],
            "message": message,
            "done": lead.lifecycle_stage not in OPEN_STAGES,
            "reasons": RejectionReason.objects.filter(is_active=True),
            "activity_kinds": [c for c in ActivityKind.choices if c[0] != ActivityKind.NOTE],
            "outcomes": [c for c in ActivityOutcome.choices if c[0]],
        },
        status=status,
    )


def _lead_for(request, pk: int) -> Lead:
    return get_object_or_404(visible(Lead.objects.all(), request.user), pk=pk)


@login_required
@require_POST
def accept(request, pk: int):
    lead = _lead_for(request, pk)
    try:
        services.accept_lead(lead, by=request.user)
    except ValidationError as exc:
        return _row(request, lead, status=422, message=_first(exc))
    return _row(request, lead, message="Accepted: now a sales-accepted lead.")


@login_required
def reject(request, pk: int):
    lead = _lead_for(request, pk)
    if request.method == "GET":
        return _reject_form(request, lead, form=request.GET)
    if request.method != "POST":
        return HttpResponse(status=405)
    form = request.POST
    errors = {}
    recycle_on = _date(form.get("recycle_on", ""), "recycle_on", errors)
    duplicate_of = None
    if form.get("duplicate_of", "").strip():
        duplicate_of = _duplicate(request, form["duplicate_of"].strip(), errors)
    rejection = None
    if not errors:
        try:
            rejection = services.reject_lead(
                lead,
                by=request.user,
                reason=form.get("reason", ""),
                note=form.get("note", ""),
                recycle_on=recycle_on,
                duplicate_of=duplicate_of,
            )
        except ValidationError as exc:
            errors = {field: msgs[0] for field, msgs in exc.message_dict.items()}
    if errors:
        response = _reject_form(request, lead, form=form, errors=errors, status=422)
        # The form posts into the whole row; a refused form replaces only itself.
        response["HX-Retarget"], response["HX-Reswap"] = f"#reject-{lead.pk}", "innerHTML"
        return response
    return _row(request, lead, message=_rejected_message(rejection))


def _rejected_message(rejection) -> str:
    if rejection.recycle_on:
        return (
            f"Not now: back as a lead on {rejection.recycle_on:%d %b %Y}, and an MQL again "
            "only if the contract's rule says so. Marketing will see your reason."
        )
    return "Rejected. Marketing will see your reason."


def _reject_form(request, lead: Lead, *, form, errors=None, status: int = 200):
    """The reject form; with a "not now" reason chosen it shows the re-entry date, filled in
    with that reason's default (the managed list's days) until the rep picks another."""
    reasons = list(RejectionReason.objects.filter(is_active=True))
    chosen = next((r for r in reasons if r.code == form.get("reason")), None)
    recycling = chosen is not None and chosen.path == RejectionPath.RECYCLE
    default = timezone.localdate() + timedelta(days=chosen.recycle_days) if recycling else None
    context = {
        "lead": lead,
        "reasons": reasons,
        "chosen": chosen,
        "recycling": recycling,
        "recycle_on": form.get("recycle_on") or (default.isoformat() if default else ""),
        "recycle_default": default,
        "min_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "errors": errors or {},
        "form": form,
    }
    return render(request, "handoff/_reject_form.html", context, status=status)


def _date(value: str, field: str, errors: dict) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = "expected a date as YYYY-MM-DD"
        return None


def _duplicate(request, value: str, errors: dict) -> Lead | None:
    found = (
        visible(Lead.objects.all(), request.user).filter(pk=int(value)).first()
        if (value.isdigit())
        else None
    )
    if found is None:
        errors["duplicate_of"] = f"no lead #{value} that you can see"
    return found


@login_required
@require_POST
def log_work(request, pk: int):
    lead = _lead_for(request, pk)
    try:
        log_activity_from_form(request, lead)
    except ValidationError as exc:
        return _row(request, lead, status=422, message=_first(exc))
    return _row(request, lead, message="Logged.")


@login_required
@require_POST
def claim(request, pk: int):
    lead = _lead_for(request, pk)
    try:
        result = services.claim_lead(lead, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, _first(exc))
        return redirect_inbox("team")
    if isinstance(result, Dispute):
        messages.warning(request, f"{lead} is protected: your claim went to your manager.")
    else:
        messages.success(request, f"{lead} is now yours.")
    return redirect_inbox("team")


def redirect_inbox(view: str = "mine"):
    response = redirect("handoff-inbox")
    response["Location"] += f"?view={view}"
    return response


@login_required
@require_POST
def assign(request, pk: int):
    """A manager hands a lead from the unassigned queue (or a teammate) to a rep."""
    # A lead the user may not see is a 404, as a missing one is.
    lead = get_object_or_404(visible(Lead.objects.all(), request.user), pk=pk)
    to = get_object_or_404(User, pk=request.POST.get("to") or 0)
    reason = request.POST.get("reason", "").strip() or "assigned from the unassigned queue"
    try:
        services.reassign_leads([lead.pk], to=to, by=request.user, reason=reason)
    except ValidationError as exc:
        messages.error(request, _first(exc))
    else:
        messages.success(request, f"{lead} assigned to {to}.")
    return redirect("handoff-inbox")


@login_required
@require_POST
def reassign(request):
    """Bulk: the checked leads go to one rep, with a reason."""
    ids = [int(i) for i in request.POST.getlist("lead") if i.isdigit() and len(i) < 19]
    if visible(Lead.objects.all(), request.user).filter(pk__in=ids).count() != len(set(ids)):
        raise Http404("no such leads")  # invisible and missing leads alike
    to = get_object_or_404(User, pk=request.POST.get("to") or 0)
    if not ids:
        messages.error(request, "lead: tick at least one lead to reassign")
        return redirect("handoff-inbox")
    try:
        moved = services.reassign_leads(
            ids, to=to, by=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, _first(exc))
    else:
        messages.success(request, f"{moved} leads reassigned to {to}.")
    return redirect("handoff-inbox")


def _first(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{f}: {m[0]}" for f, m in exc.message_dict.items())
    return exc.messages[0]


@login_required
@require_POST
def read_notifications(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return HttpResponse("")


@login_required
def disputes(request):
    user = request.user
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("disputes are decided by managers")
    rows = Dispute.objects.select_related("lead", "claimant", "owner", "decided_by")
    if user.role == Role.MANAGER:
        rows = rows.filter(claimant__team_id=user.team_id)
    if request.method == "POST":
        dispute = get_object_or_404(rows, pk=request.POST.get("dispute") or 0)
        try:
            services.decide_dispute(
                dispute,
                by=user,
                grant=request.POST.get("grant") == "1",
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            messages.error(request, _first(exc))
        return redirect("handoff-disputes")
    return render(
        request,
        "handoff/disputes.html",
        {
            "tab": "disputes",
            "tabs": _tabs(user),
            "counts": _tab_counts(user),
            "open": rows.filter(status=DisputeStatus.OPEN),
            "decided": rows.exclude(status=DisputeStatus.OPEN)[:50],
        },
    )


@login_required
@require_GET
def sla_page(request):
    weeks = _int(request.GET.get("weeks"), 12, 1, 104)
    report = reports.sla_report(weeks=weeks)
    chart = {
        "labels": [w["week"] for w in report["weeks"]],
        "datasets": [
            {
                "label": "First-touch compliance (%)",
                "data": [
                    round(100 * w["compliance"], 1) if w["compliance"] is not None else None
                    for w in report["weeks"]
                ],
            }
        ],
    }
    delivery = {
        "labels": [m["month"] for m in report["marketing"]],
        "datasets": [
            {"label": "MQLs delivered", "data": [m["delivered"] for m in report["marketing"]]},
            {"label": "Promised", "data": [m["promised"] for m in report["marketing"]]},
        ],
    }
    return render(
        request,
        "handoff/sla.html",
        {
            "report": report,
            "weeks": weeks,
            "trend_chart": chart,
            "delivery_chart": delivery,
        },
    )


@login_required
def feedback_page(request):
    if request.user.role == Role.REP:
        raise PermissionDenied("the feedback report is for marketing and managers")
    if request.method == "POST":
        rejection = get_object_or_404(
            services.bad_data_queue(), pk=request.POST.get("rejection") or 0
        )
        services.resolve_bad_data(rejection, by=request.user)
        messages.success(request, f"{rejection.lead} left the bad-data queue.")
        return redirect("handoff-feedback")
    days = _int(request.GET.get("days"), 30, 1, 730)
    report = reports.feedback_report(since=timezone.now() - timedelta(days=days))
    return render(
        request,
        "handoff/feedback.html",
        {
            "report": report,
            "days": days,
            "bad_data": services.bad_data_queue()[:100],
            "can_resolve": request.user.role in (Role.MARKETING, Role.ADMIN),
        },
    )


def _int(value, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value), low), high)
    except (TypeError, ValueError):
        return default
