from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "closedloop.analytics"
    label = "analytics"
    verbose_name = "Analytics"
