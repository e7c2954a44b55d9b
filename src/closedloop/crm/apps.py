from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "closedloop.crm"
    label = "crm"
    verbose_name = "CRM: accounts, leads, opportunities"
