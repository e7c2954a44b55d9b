from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "closedloop.demo"
    label = "demo"
    verbose_name = "Demo company"
