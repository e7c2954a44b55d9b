from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "closedloop.webhooks"
    label = "webhooks"
    verbose_name = "Outgoing webhooks"
