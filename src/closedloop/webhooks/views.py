"""Pages for admins: endpoints, their deliveries, test events and allowed internal hosts."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from closedloop.core.events import EVENTS
from closedloop.core.models import Role
from closedloop.webhooks import services
from closedloop.webhooks.models import AllowedHost, Delivery, DeliveryStatus, Endpoint


def admin_only(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.role != Role.ADMIN:
            raise PermissionDenied("webhooks are managed by admins")
        return view(request, *args, **kwargs)

    return wrapper


@admin_only
def endpoint_list(request):
    errors, values = {}, {}
    if request.method == "POST":
        values = {
            "url": request.POST.get("url", "").strip(),
            "description": request.POST.get("description", "").strip()[:200],
            "events": request.POST.getlist("events"),
        }
        try:
            endpoint = services.create_endpoint(by=request.user, **values)
        except services.InvalidEndpoint as exc:
            errors[exc.field] = exc.problem
        else:
            messages.success(request, "Endpoint created. Its signing secret is shown below.")
            return redirect("webhook-endpoint", pk=endpoint.pk)
    failing = Q(deliveries__status__in=[DeliveryStatus.RETRYING, DeliveryStatus.FAILED])
    endpoints = Endpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED)),
        failing=Count("deliveries", filter=failing),
    )
    context = {
        "endpoints": endpoints,
        "events": list(EVENTS),
        "errors": errors,
        "values": values,
        "hosts": AllowedHost.objects.select_related("created_by"),
        "due": len(services.due_delivery_ids()),
        "max_attempts": services.MAX_ATTEMPTS,
    }
    return render(request, "webhooks/endpoints.html", context, status=422 if errors else 200)


@admin_only
def endpoint_detail(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    page = Paginator(endpoint.deliveries.all(), 25).get_page(request.GET.get("page"))
    return render(request, "webhooks/endpoint.html", {"endpoint": endpoint, "page": page})


@admin_only
@require_POST
def toggle_endpoint(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.update_endpoint(endpoint, is_active=not endpoint.is_active)
    messages.success(request, "Endpoint enabled." if endpoint.is_active else "Endpoint disabled.")
    return redirect("webhook-endpoint", pk=pk)


@admin_only
@require_POST
def test_endpoint(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.send_test_event(endpoint, by=request.user)
    messages.success(request, "Test event queued; its delivery appears below.")
    return redirect("webhook-endpoint", pk=pk)


@admin_only
@require_POST
def rotate_endpoint_secret(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.rotate_secret(endpoint)
    messages.success(request, "New signing secret; update the receiver before the next event.")
    return redirect("webhook-endpoint", pk=pk)


@admin_only
@require_POST
def redeliver(request, pk: int):
    delivery = get_object_or_404(Delivery.objects.select_related("endpoint"), pk=pk)
    services.redeliver(delivery)
    messages.success(request, f"Event {delivery.event} queued again.")
    if delivery.endpoint_id is None:  # a message to a plain URL (an SLA escalation)
        return redirect("webhook-endpoints")
    return redirect("webhook-endpoint", pk=delivery.endpoint_id)


@admin_only
@require_POST
def retry_due(request):
    attempted = services.retry_due_deliveries()
    messages.success(request, f"{attempted} due deliveries attempted.")
    return redirect("webhook-list")


@admin_only
@require_POST
def add_host(request):
    try:
        host = services.allow_host(
            host=request.POST.get("host", ""),
            note=request.POST.get("note", "")[:200],
            by=request.user,
        )
    except services.InvalidEndpoint as exc:
        messages.error(request, f"Host: {exc.problem}")
    else:
        messages.success(
            request, f"Webhooks may now reach {host.host}, even on internal addresses."
        )
    return redirect("webhook-list")


@admin_only
@require_POST
def remove_host(request, pk: int):
    host = get_object_or_404(AllowedHost, pk=pk)
    host.delete()
    messages.success(request, f"{host.host} is no longer allowed to be internal.")
    return redirect("webhook-list")
