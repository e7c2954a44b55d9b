from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "closedloop.engagement"
    label = "engagement"
    verbose_name = "Engagement: touchpoints"
