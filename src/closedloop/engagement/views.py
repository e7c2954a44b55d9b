"""Pages to manage tracking sources and web forms, and the public form capture endpoint."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from closedloop.campaigns.models import Campaign
from closedloop.core.models import Role
from closedloop.core.ratelimit import client_address
from closedloop.engagement import capture, segment, tracking
from closedloop.engagement.models import EventMapping, Form, Source, TouchpointType
from closedloop.engagement.segment import DEFAULT_EVENT_TYPES

_MANAGERS = (Role.ADMIN, Role.MARKETING)
_READERS = (Role.ADMIN, Role.MARKETING, Role.EXECUTIVE)


def _require(user, roles) -> None:
    if user.role not in roles:
        raise PermissionDenied("tracking sources and forms are managed by marketing and admins")


# --- sources ---------------------------------------------------------------------------------


@login_required
def sources(request):
    """Tracking sources: the list, and creating one (its write key is shown once)."""
    _require(request.user, _READERS)
    new_key = None
    if request.method == "POST":
        _require(request.user, _MANAGERS)
        try:
            _, new_key = tracking.create_source(name=request.POST.get("name", ""), by=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
    context = {
        "sources": Source.objects.all(),
        "new_key": new_key,
        "can_manage": request.user.role in _MANAGERS,
        "endpoint": request.build_absolute_uri("/"),
    }
    return render(request, "engagement/sources.html", context)


@login_required
def source_detail(request, pk: int):
    """A source: its event → touchpoint type mapping, key rotation, disabling."""
    _require(request.user, _READERS)
    source = get_object_or_404(Source, pk=pk)
    new_key = None
    if request.method == "POST":
        _require(request.user, _MANAGERS)
        new_key = _source_action(request, source)
        if new_key is None:
            return redirect("tracking-source", pk=source.pk)
    context = {
        "source": source,
        "new_key": new_key,
        "mappings": source.event_mappings.all(),
        "defaults": [
            (name.title(), TouchpointType(kind).label)
            for name, kind in sorted(DEFAULT_EVENT_TYPES.items())
        ],
        "types": TouchpointType.choices,
        "can_manage": request.user.role in _MANAGERS,
        "endpoint": request.build_absolute_uri("/"),
    }
    return render(request, "engagement/source_detail.html", context)


def _source_action(request, source: Source) -> str | None:
    action = request.POST.get("action")
    if action == "rotate":
        return tracking.rotate_source_key(source)
    if action in ("disable", "enable"):
        tracking.set_source_active(source, active=action == "enable")
    elif action == "map":
        try:
            tracking.set_event_mapping(
                source=source,
                event_name=request.POST.get("event_name", ""),
                touchpoint_type=request.POST.get("touchpoint_type", ""),
            )
        except ValueError as exc:
            messages.error(request, str(exc))
    elif action == "unmap":
        mapping = get_object_or_404(EventMapping, pk=request.POST.get("mapping"), source=source)
        tracking.delete_event_mapping(mapping)
    return None


# --- forms -----------------------------------------------------------------------------------


@login_required
def forms(request):
    """Web forms: the list, and creating one (its key and embed snippet are shown once)."""
    _require(request.user, _READERS)
    created = None
    if request.method == "POST":
        _require(request.user, _MANAGERS)
        created = _create_form(request)
    context = {
        "forms": Form.objects.select_related("campaign"),
        "campaigns": Campaign.objects.all(),
        "can_manage": request.user.role in _MANAGERS,
        **(created or {}),
    }
    return render(request, "engagement/forms.html", context)


def _create_form(request) -> dict | None:
    campaign = None
    if request.POST.get("campaign"):
        campaign = Campaign.objects.filter(pk=request.POST["campaign"]).first()
        if campaign is None:
            messages.error(request, "campaign: no such campaign")
            return None
    try:
        form, key = tracking.create_form(
            name=request.POST.get("name", ""),
            campaign=campaign,
            allowed_origins=request.POST.get("allowed_origins", ""),
            redirect_url=request.POST.get("redirect_url", ""),
            by=request.user,
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return None
    return {"new_form": form, "new_key": key, "snippet": embed_snippet(request, form, key)}


@login_required
def form_detail(request, pk: int):
    _require(request.user, _READERS)
    form = get_object_or_404(Form.objects.select_related("campaign"), pk=pk)
    context = {"form": form, "can_manage": request.user.role in _MANAGERS}
    if request.method == "POST":
        _require(request.user, _MANAGERS)
        action = request.POST.get("action")
        if action == "rotate":
            key = tracking.rotate_form_key(form)
            context.update(new_key=key, snippet=embed_snippet(request, form, key))
        elif action in ("disable", "enable"):
            form.is_active = action == "enable"
            form.save(update_fields=["is_active"])
            return redirect("tracking-form", pk=form.pk)
    return render(request, "engagement/form_detail.html", context)


def embed_snippet(request, form: Form, key: str) -> str:
    """HTML to paste into a web page: a plain form posting to the capture endpoint."""
    action = request.build_absolute_uri(reverse("form-capture", args=[key]))
    campaign = ""
    if form.campaign:
        campaign = f'\n  <input type="hidden" name="campaign" value="{form.campaign.pk}">'
    return (
        f'<form method="post" action="{action}">\n'
        '  <label>Email <input type="email" name="email" required></label>\n'
        '  <label>First name <input type="text" name="first_name"></label>\n'
        '  <label>Last name <input type="text" name="last_name"></label>\n'
        '  <label>Company <input type="text" name="company"></label>'
        f"{campaign}\n"
        "  <!-- Left empty by people; bots that fill it are ignored. -->\n"
        f'  <input type="text" name="{capture.HONEYPOT_FIELD}" tabindex="-1" autocomplete="off"'
        ' aria-hidden="true" style="position:absolute;left:-10000px">\n'
        '  <button type="submit">Send</button>\n'
        "</form>"
    )


# --- public capture --------------------------------------------------------------------------


def _cors(response, form: Form | None, origin: str | None):
    if origin and form is not None and form.origins and capture.origin_allowed(form, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    elif origin and form is not None and not form.origins:
        response["Access-Control-Allow-Origin"] = "*"
    return response


def _fields(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("body: not valid JSON") from None
        except RecursionError:
            raise ValueError("body: nested too deep") from None
        if not isinstance(data, dict):
            raise ValueError("body: must be a JSON object of fields")
        if problem := segment.envelope_problem(data, check_size=False):
            raise ValueError(f"body: {problem}")
        return data
    return {key: request.POST.get(key) for key in request.POST}


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


@csrf_exempt
def form_capture(request, form_key: str):
    """POST /f/<form key>: a web form submission (form-encoded or JSON)."""
    origin = request.headers.get("Origin")
    form = tracking.form_for_key(form_key)
    if request.method == "OPTIONS":
        response = HttpResponse(status=204 if form else 404)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Accept"
        response["Access-Control-Max-Age"] = "600"
        return _cors(response, form, origin)
    if request.method != "POST":
        return JsonResponse({"success": False, "message": "POST the form"}, status=405)
    wait = capture.retry_after(client_address(request))
    if wait is not None:
        response = JsonResponse({"success": False, "message": "too many submissions"}, status=429)
        response["Retry-After"] = str(wait)
        return _cors(response, form, origin)
    if form is None:
        return JsonResponse({"success": False, "message": "unknown or disabled form"}, status=404)
    if not capture.origin_allowed(form, origin):
        return JsonResponse(
            {"success": False, "message": f"origin {origin} is not allowed"}, status=403
        )
    return _cors(_submit(request, form), form, origin)


def _submit(request, form: Form):
    try:
        fields = _fields(request)
        if not capture.is_bot(fields):
            capture.capture_form_submission(
                form, fields=fields, page_url=request.headers.get("Referer", "")
            )
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        if _wants_json(request):
            return JsonResponse({"success": False, "field": field, "message": problem}, status=400)
        return render(
            request, "engagement/form_error.html", {"field": field, "problem": problem}, status=400
        )
    if _wants_json(request):
        return JsonResponse({"success": True})
    if form.redirect_url:
        return redirect(form.redirect_url)
    return render(request, "engagement/form_thanks.html", {"form": form})
