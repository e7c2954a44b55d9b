"""The campaign form of the pages; the service checks the values again (every door does)."""

from __future__ import annotations

from django import forms

from closedloop.campaigns.models import Campaign


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "type",
            "channel",
            "starts_on",
            "ends_on",
            "cost",
            "currency",
            "audience",
            "message",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "message": forms.Textarea(attrs={"rows": 3}),
        }
