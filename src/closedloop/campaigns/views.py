"""Campaign pages: everyone reads the list (sales sees audience and message); marketing and
admins create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from closedloop.campaigns import services
from closedloop.campaigns.forms import CampaignForm
from closedloop.campaigns.models import Campaign


@login_required
def campaign_list(request):
    """Every campaign, newest first, with its dates, cost and owner."""
    campaigns = Campaign.objects.select_related("owner")
    return render(
        request,
        "campaigns/list.html",
        {"campaigns": campaigns, "can_manage": services.can_manage_campaigns(request.user)},
    )


@login_required
def campaign_new(request):
    return _edit(request, None)


@login_required
def campaign_edit(request, pk: int):
    return _edit(request, get_object_or_404(Campaign, pk=pk))


def _edit(request, campaign: Campaign | None):
    if not services.can_manage_campaigns(request.user):
        raise PermissionDenied("campaigns are run by marketing")
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save(request.user, campaign, form.cleaned_data)
        except services.InvalidCampaign as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.problem)
        else:
            messages.success(request, f"Campaign “{saved.name}” saved.")
            return redirect("campaign-list")
    status = 422 if form.errors else 200
    return render(
        request, "campaigns/edit.html", {"form": form, "campaign": campaign}, status=status
    )


def _save(user, campaign: Campaign | None, values: dict) -> Campaign:
    if campaign is None:
        return services.create_campaign(by=user, **values)
    # The form's instance already holds the new values; reload so the service sees a change.
    fresh = Campaign.objects.get(pk=campaign.pk)
    return services.update_campaign(fresh, by=user, **values)
