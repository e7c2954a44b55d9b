"""Content requests: a rep asks from a lead or opportunity; marketing works the queue."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from closedloop.content.models import AssetStatus, ContentAsset
from closedloop.content.permissions import curates
from closedloop.content.report_views import csv_response
from closedloop.content.services import requests as service
from closedloop.content.usage_models import OPEN_STATUSES, Urgency
from closedloop.core.permissions import visible
from closedloop.crm.models import Lead, Opportunity
from closedloop.crm.permissions import opportunity_visibility

QUEUE_COLUMNS = (
    "id", "what", "requested_by", "lead", "opportunity", "urgency", "status", "created_at",
    "due_at", "clock", "assignee", "fulfilled_by",
)  # fmt: skip


class RequestForm(forms.Form):
    what = forms.CharField(
        label="What do you need?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="What it should say or show, for whom, and in which format",
    )
    needed_by = forms.DateField(
        label="Needed by", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.NORMAL)


def _lead_and_opportunity(request, source) -> tuple[Lead | None, Opportunity | None]:
    """The lead and opportunity named in `source` (GET or POST), each one the user sees
    (404 otherwise)."""
    lead = opportunity = None
    if str(source.get("lead", "")).isdigit():
        lead = get_object_or_404(visible(Lead.objects.all(), request.user), pk=source["lead"])
    if str(source.get("opportunity", "")).isdigit():
        rule = opportunity_visibility(request.user)
        opps = Opportunity.objects.all() if rule is None else Opportunity.objects.filter(rule)
        opportunity = get_object_or_404(opps, pk=source["opportunity"])
    return lead, opportunity


@login_required
def request_new(request):
    source = request.POST if request.method == "POST" else request.GET
    lead, opportunity = _lead_and_opportunity(request, source)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not request.user.can_write:
            raise PermissionDenied("read-only users cannot ask for content")
        try:
            created = service.request_content(
                by=request.user, lead=lead, opportunity=opportunity, **form.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Your request is in marketing's queue.")
            return redirect("content-request", pk=created.pk)
    context = {"form": form, "lead": lead, "opportunity": opportunity}
    return render(request, "content/request_form.html", context, status=400 if form.errors else 200)


def _row(item, now) -> dict:
    return {
        "id": item.pk,
        "what": item.what,
        "requested_by": str(item.requested_by or ""),
        "lead": str(item.lead or ""),
        "opportunity": str(item.opportunity or ""),
        "urgency": item.urgency,
        "status": item.status,
        "created_at": item.created_at.isoformat(timespec="minutes"),
        "due_at": item.due_at.isoformat(timespec="minutes"),
        "clock": str(service.clock(item, now=now).state),
        "assignee": str(item.assignee or ""),
        "fulfilled_by": str(item.fulfilled_by or ""),
        "item": item,
    }


@login_required
def request_queue(request):
    show = request.GET.get("show", "open")
    items = service.visible_requests(request.user)
    if show == "open":
        items = items.filter(status__in=OPEN_STATUSES).order_by("due_at")
    now = timezone.now()
    rows = [_row(item, now) for item in items[:500]]
    if request.GET.get("format") == "csv":
        return csv_response("content-requests", QUEUE_COLUMNS, rows)
    context = {"rows": rows, "show": show, "works_queue": curates(request.user)}
    return render(request, "content/requests.html", context)


def _visible_request(request, pk: int):
    return get_object_or_404(service.visible_requests(request.user), pk=pk)


@login_required
def request_detail(request, pk: int):
    item = _visible_request(request, pk)
    context = {
        "item": item,
        "clock": service.clock(item),
        "searches": item.searches.order_by("-created_at"),
        "works_queue": curates(request.user),
        "is_open": item.status in OPEN_STATUSES,
        "assets": ContentAsset.objects.filter(status=AssetStatus.PUBLISHED, personal=False)
        .order_by("-published_at", "title")
        .only("pk", "title")[:300],
    }
    return render(request, "content/request_detail.html", context)


def _act(request, pk: int, action) -> object:
    item = _visible_request(request, pk)
    if not curates(request.user):
        raise PermissionDenied("only marketing works the request queue")
    try:
        action(item)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("content-request", pk=item.pk)


@login_required
@require_POST
def request_take(request, pk: int):
    return _act(request, pk, lambda item: service.take_request(item, by=request.user))


@login_required
@require_POST
def request_fulfil(request, pk: int):
    def fulfil(item):
        value = request.POST.get("asset", "")
        asset = ContentAsset.objects.filter(pk=int(value)).first() if value.isdigit() else None
        if asset is None:
            raise ValidationError({"asset": "choose the asset that answers the request"})
        answer = request.POST.get("answer", "")[:2000]
        service.fulfil_request(item, by=request.user, asset=asset, answer=answer)
        messages.success(request, "Fulfilled: the rep was told.")

    return _act(request, pk, fulfil)


@login_required
@require_POST
def request_decline(request, pk: int):
    def decline(item):
        service.decline_request(item, by=request.user, answer=request.POST.get("answer", "")[:2000])
        messages.success(request, "Declined: the rep was told why.")

    return _act(request, pk, decline)
