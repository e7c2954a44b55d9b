"""Trained predictive models and the record of full rescores."""

from __future__ import annotations

from django.db import models


class Scorer(models.TextChoices):
    """Which scorer produced a lead's `score`."""

    RULES = "rules", "Rules (fit grade + engagement)"
    MODEL = "model", "Predictive model"


class ScoringModel(models.Model):
    """A predictive model trained on this installation's outcomes.

    `blob` is the joblib dump of closedloop's own model (engine.AutoModel), trained here: only ever
    loaded from this table, never from an upload. At most one row is active.
    """

    algorithm = models.CharField(max_length=80)
    trained_at = models.DateTimeField(db_index=True)
    rows = models.PositiveIntegerField(help_text="Labelled leads it learned from")
    positives = models.PositiveIntegerField(help_text="Of which converted")
    metrics = models.JSONField(default=dict, blank=True, help_text="Hold-out AUC, Brier, …")
    features = models.JSONField(default=list, blank=True)
    blob = models.BinaryField()
    is_active = models.BooleanField(default=False)
    trained_by = models.CharField(max_length=200, blank=True, help_text="Who or what asked for it")

    class Meta:
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_model"
            )
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} of {self.trained_at:%Y-%m-%d %H:%M}"


class RescoreRun(models.Model):
    """One full rescore: what ran, for how many leads, how long it took."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    scorer = models.CharField(max_length=8, choices=Scorer.choices)
    model = models.ForeignKey(ScoringModel, null=True, blank=True, on_delete=models.SET_NULL)
    contract_version = models.PositiveIntegerField(null=True, blank=True)
    leads = models.PositiveIntegerField(default=0)
    became_mql = models.PositiveIntegerField(default=0)
    compute_seconds = models.FloatField(default=0)
    total_seconds = models.FloatField(default=0)
    trigger = models.CharField(max_length=40, blank=True, help_text="cli, contract, retrain, …")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Rescore of {self.leads} leads at {self.started_at:%Y-%m-%d %H:%M}"
