from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "closedloop.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
