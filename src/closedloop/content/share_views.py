"""Share links: the buyer's `/s/<token>` (public), and the rep's share, revoke and usage
buttons on an asset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from closedloop.content.models import ContentAsset
from closedloop.content.permissions import curates, visible_assets
from closedloop.content.services import sharing
from closedloop.content.usage_models import ShareLink, UsageKind
from closedloop.core.models import Role
from closedloop.core.permissions import visible
from closedloop.crm.models import Lead, Opportunity
from closedloop.crm.permissions import opportunity_visibility

GONE = {
    "missing": ("This link does not exist", 404),
    "revoked": ("This link was withdrawn", 410),
    "expired": ("This link has expired", 410),
    "retired": ("This content is no longer available", 410),
}


@never_cache
@require_GET
def open_share(request, token: str):
    """A buyer opens a shared link: the view is recorded and the asset served, or a page
    says why not (never the file). Nothing on it names the lead or the rep."""
    opened = sharing.open_link(token)
    if opened.state != "active" or opened.link is None:
        title, status = GONE[opened.state]
        context = {"title": title, "state": opened.state}
        response = render(request, "content/share_gone.html", context, status=status)
    else:
        response = _serve(opened.link)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _serve(link: ShareLink):
    version = link.version or link.asset.current_version
    if version is None:  # a link to a video or a page
        return HttpResponseRedirect(link.asset.url)
    response = FileResponse(version.file.open("rb"), content_type=version.mime)
    response["Content-Disposition"] = f'inline; filename="{_safe_name(version.original_name)}"'
    return response


def _safe_name(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in " ._-")[:120] or "file"


def _visible_asset(request, pk: int) -> ContentAsset:
    return get_object_or_404(visible_assets(request.user), pk=pk)


@login_required
@require_POST
def share(request, pk: int):
    """Create a link of the asset for a lead (and optionally one of its opportunities); the
    URL is shown once, on the page this redirects to."""
    asset = _visible_asset(request, pk)
    lead = _visible_lead(request, request.POST.get("lead"))
    try:
        link, token = sharing.share_asset(
            asset,
            lead=lead,
            by=request.user,
            opportunity=_visible_opportunity(request, request.POST.get("opportunity")),
            days=_days(request.POST.get("days")),
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("content-asset", pk=asset.pk)
    url = request.build_absolute_uri(reverse("content-share-open", args=[token]))
    return render(request, "content/share_created.html", {"link": link, "url": url})


@login_required
@require_POST
def share_picked(request):
    """The lead page's share form: the asset comes in the form, not the address."""
    value = request.POST.get("asset", "")
    if not value.isdigit():
        raise Http404("no such asset")
    return share(request, int(value))


def _visible_lead(request, value) -> Lead:
    if not str(value or "").isdigit():
        raise Http404("no such lead")
    return get_object_or_404(visible(Lead.objects.all(), request.user), pk=int(value))


def _visible_opportunity(request, value) -> Opportunity | None:
    if not str(value or "").isdigit():
        return None
    rule = opportunity_visibility(request.user)
    queryset = Opportunity.objects.all() if rule is None else Opportunity.objects.filter(rule)
    return get_object_or_404(queryset, pk=int(value))


def _days(value) -> int | None:
    text = str(value or "").strip()
    if text in ("", "never"):
        return None if text == "never" else sharing.LINK_DAYS
    if not text.isdigit():
        raise ValidationError({"days": "a whole number of days"})
    return int(text)


def may_revoke(user, link: ShareLink) -> bool:
    if link.created_by_id == user.pk or curates(user):
        return True
    sees_lead = visible(Lead.objects.filter(pk=link.lead_id), user).exists()
    return user.role == Role.MANAGER and sees_lead


@login_required
@require_POST
def revoke(request, pk: int):
    link = get_object_or_404(ShareLink.objects.select_related("asset"), pk=pk)
    if not may_revoke(request.user, link) or not request.user.can_write:
        raise Http404("no such link")
    sharing.revoke_link(link, by=request.user)
    messages.success(request, f"The link to “{link.asset.title}” was revoked.")
    return redirect(request.POST.get("next") or reverse("lead-detail", args=[link.lead_id]))


@login_required
@require_POST
def record(request, pk: int):
    """A rep says they presented the asset (opens and downloads are recorded by the pages)."""
    asset = _visible_asset(request, pk)
    if not request.user.can_write:
        raise PermissionDenied("read-only users record nothing")
    lead = None
    if request.POST.get("lead"):
        lead = _visible_lead(request, request.POST.get("lead"))
    sharing.record_usage(asset, by=request.user, kind=UsageKind.PRESENT, lead=lead)
    messages.success(request, "Noted: you presented it.")
    return redirect("content-asset", pk=asset.pk)
