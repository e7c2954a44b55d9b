from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "closedloop.scoring"
    label = "scoring"
    verbose_name = "Lead scoring"
