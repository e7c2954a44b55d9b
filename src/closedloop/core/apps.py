from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "closedloop.core"
    label = "core"
    verbose_name = "Core: users, teams, audit"

    def ready(self) -> None:
        from closedloop.core import audit, checks  # noqa: F401  (registers the checks)

        audit.connect_signals()
