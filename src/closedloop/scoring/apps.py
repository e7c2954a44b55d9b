from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "closedloop.scoring"
    label = "scoring"
    verbose_name = "Lead scoring"

    def ready(self) -> None:
        from closedloop.scoring import receivers

        receivers.connect()
