"""The attribution page's filter form (a GET form: it changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.utils import timezone

from closedloop.analytics.engine.attribution import MODELS
from closedloop.analytics.services import Dimension, Outcome
from closedloop.core.models import Team

MODEL_LABELS = {
    "first": "First touch",
    "last": "Last touch",
    "linear": "Linear",
    "time_decay": "Time decay (7-day half-life)",
    "u_shaped": "U-shaped 40/40/20",
    "u_shaped_marketo": "U-shaped 50/50",
    "w_shaped": "W-shaped",
    "full_path": "Full path",
    "j_shaped": "J-shaped 20/60/20",
    "inverse_j": "Inverse J 60/20/20",
    "markov": "Markov (removal effect)",
    "shapley": "Shapley",
}
DEFAULT_MODELS = ["first", "last", "w_shaped", "markov"]


class AttributionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices, initial=Outcome.PIPELINE, required=False)
    dimension = forms.ChoiceField(
        choices=Dimension.choices, initial=Dimension.CHANNEL, required=False, label="Credit to"
    )
    since = forms.DateField(required=False, help_text="First day (UTC); default 90 days ago")
    until = forms.DateField(required=False, help_text="Last day (UTC); default today")
    models = forms.MultipleChoiceField(
        choices=[(name, MODEL_LABELS[name]) for name in MODELS],
        initial=DEFAULT_MODELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self):
        data = super().clean()
        today = timezone.now().date()
        data["until"] = data.get("until") or today
        data["since"] = data.get("since") or data["until"] - timedelta(days=90)
        if data["since"] > data["until"]:
            self.add_error("since", "must be on or before the last day")
        data["models"] = data.get("models") or DEFAULT_MODELS
        data["outcome"] = data.get("outcome") or Outcome.PIPELINE
        data["dimension"] = data.get("dimension") or Dimension.CHANNEL
        return data

    def period(self) -> tuple[datetime, datetime]:
        """[since, until] as a half-open UTC interval covering both whole days."""
        since = datetime.combine(self.cleaned_data["since"], time.min, tzinfo=UTC)
        until = datetime.combine(self.cleaned_data["until"], time.min, tzinfo=UTC)
        return since, until + timedelta(days=1)


class PeriodForm(forms.Form):
    """Period and team filters of the ROI page and the scoreboard (a GET form)."""

    since = forms.DateField(required=False, help_text="First day (UTC)")
    until = forms.DateField(required=False, help_text="Last day (UTC); default today")
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Team")

    default_days = 90

    def __init__(self, data=None, *args, user=None, **kwargs):
        if user is not None and not user.sees_all_leads and data:
            # Reps and managers see their own team whatever they ask for.
            data = data.copy()
            data.pop("team", None)
        super().__init__(data, *args, **kwargs)
        teams = Team.objects.order_by("name").values_list("id", "name")
        if user is not None and not user.sees_all_leads:
            teams = teams.filter(pk=user.team_id)
        self.fields["team"].choices = [("", "Whole company")] + list(teams)

    def clean(self):
        data = super().clean()
        today = timezone.now().date()
        data["until"] = data.get("until") or today
        data["since"] = data.get("since") or data["until"] - timedelta(days=self.default_days)
        if data["since"] > data["until"]:
            self.add_error("since", "must be on or before the last day")
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        """[since, until] as a half-open UTC interval covering both whole days."""
        since = datetime.combine(self.cleaned_data["since"], time.min, tzinfo=UTC)
        until = datetime.combine(self.cleaned_data["until"], time.min, tzinfo=UTC)
        return since, until + timedelta(days=1)


PERIOD_CHOICES = [
    ("quarter", "This quarter"),
    ("last_30", "Last 30 days"),
    ("last_90", "Last 90 days"),
    ("custom", "From – to"),
]


class ScoreboardForm(PeriodForm):
    """The scoreboard's filters: a standard period (kept fresh by the worker) or a custom
    range (computed once by the worker when first asked for), and the team."""

    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, label="Period")

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "quarter"
        return data
