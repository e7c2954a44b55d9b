from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "closedloop.handoff"
    label = "handoff"
    verbose_name = "Handoff: routing, SLAs, feedback"

    def ready(self) -> None:
        from closedloop.handoff import receivers

        receivers.connect()
