from django.apps import AppConfig


class DefinitionsConfig(AppConfig):
    name = "closedloop.definitions"
    label = "definitions"
    verbose_name = "Definitions contract"
