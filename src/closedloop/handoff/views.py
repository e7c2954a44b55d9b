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
from closedloop.crm.models import ActivityKind, ActivityOutcome, Lead, LifecycleStage
from closedloop.handoff import engine, reports, services
from closedloop.handoff.models import Dispute, DisputeStatus, Notification, RejectionReason
from closedloop.handoff.sla import OPEN_STAGES, calendars_for_teams, timers_for

INBOX_LIMIT = 300
SALES_ROLES = (Role.REP, Role.MANAGER, Role.ADMIN)


def _require_sales(user: User) -> None:
    if user.role not in SALES_ROLES:
        raise PermissionDenied("the inbox is for sales reps and managers")


def inbox_items(leads, *, now: datetime) -> list[dict]:
    """Leads with their timers and priority (score × SLA urgency), most urgent first."""
    leads = list(leads.select_related("owner", "sla")[:INBOX_LIMIT])
    calendars = calendars_for_teams(
        {lead.owner.team_id if lead.owner_id else None for lead in leads}
    )
    items = []
    for lead in leads:
        timer = getattr(lead, "sla", None)
        calendar = calendars.get(lead.owner.team_id if lead.owner_id else None)
        timers = timers_for(lead, now=now, timer=timer, calendar=calendar) if timer else []
        urgency = 1.0
        if timers:
            first = timers[0]
            window = first.minutes_left + engine.working_minutes_between(
                timer.started_at, now, calendar
            )
            urgency = engine.urgency(
                first.state, minutes_left=first.minutes_left, window_minutes=window
            )
        items.append(
            {
                "lead": lead,
                "timers": timers,
                "priority": engine.priority(lead.score, urgency),
                "reasons": _reasons(lead),
            }
        )
    items.sort(key=lambda item: -item["priority"])
    return items


def _reasons(lead: Lead) -> list[dict]:
    reasons = []
    for reason in lead.score_reasons or []:
        if isinstance(reason, dict) and reason.get("text"):
            effect = reason.get("effect", 0) or 0
            reasons.append({"text": reason["text"], "effect": effect, "up": effect >= 0})
    return reasons[:5]


def _open(queryset):
    return queryset.filter(lifecycle_stage__in=OPEN_STAGES)


@login_required
@require_GET
def inbox(request):
    user = request.user
    _require_sales(user)
    now = timezone.now()
    view = request.GET.get("view", "mine")
    context = {
        "now": now,
        "view": view,
        "reasons": RejectionReason.objects.filter(is_active=True),
        "claim": user.role == Role.REP and view == "team",
    }
    if user.role == Role.REP:
        leads = (
            Lead.objects.filter(owner=user)
            if view == "mine"
            else Lead.objects.filter(owner__team_id=user.team_id).exclude(owner=user)
        )
    else:
        leads = visible(Lead.objects.filter(owner__isnull=False), user)
        rep_id = request.GET.get("rep")
        if rep_id and rep_id.isdigit():
            leads = leads.filter(owner_id=int(rep_id))
        context["queue"] = inbox_items(
            Lead.objects.filter(owner__isnull=True, lifecycle_stage=LifecycleStage.MQL), now=now
        )
        context["team_reps"] = _team_reps(user)
    context["items"] = inbox_items(_open(leads), now=now)
    context["notifications"] = list(
        Notification.objects.filter(user=user, read_at__isnull=True)[:10]
    )
    context["activity_kinds"] = [c for c in ActivityKind.choices if c[0] != ActivityKind.NOTE]
    context["outcomes"] = [c for c in ActivityOutcome.choices if c[0]]
    return render(request, "handoff/inbox.html", context)


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
    reasons = RejectionReason.objects.filter(is_active=True)
    if request.method == "GET":
        return render(request, "handoff/_reject_form.html", {"lead": lead, "reasons": reasons})
    if request.method != "POST":
        return HttpResponse(status=405)
    form = request.POST
    errors = {}
    recycle_on = _date(form.get("recycle_on", ""), "recycle_on", errors)
    duplicate_of = None
    if form.get("duplicate_of", "").strip():
        duplicate_of = _duplicate(request, form["duplicate_of"].strip(), errors)
    if not errors:
        try:
            services.reject_lead(
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
        response = render(
            request,
            "handoff/_reject_form.html",
            {
                "lead": lead,
                "reasons": reasons,
                "errors": errors,
                "form": form,
            },
            status=422,
        )
        # The form posts into the whole row; a refused form replaces only itself.
        response["HX-Retarget"], response["HX-Reswap"] = f"#reject-{lead.pk}", "innerHTML"
        return response
    return _row(request, lead, message="Rejected. Marketing will see your reason.")


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
        services.log_activity(
            lead,
            by=request.user,
            kind=request.POST.get("kind", ""),
            outcome=request.POST.get("outcome", "")
            if request.POST.get("outcome", "") in ActivityOutcome.values
            else "",
            notes=request.POST.get("notes", ""),
        )
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
    lead = get_object_or_404(visible(Lead.objects, request.user), pk=pk)
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
    if visible(Lead.objects, request.user).filter(pk__in=ids).count() != len(set(ids)):
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
