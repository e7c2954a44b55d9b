from django.apps import AppConfig


class DefinitionsConfig(AppConfig):
    name = "closedloop.definitions"
    label = "definitions"
    verbose_name = "Definitions contract"

    def ready(self) -> None:
        # crm enforces the contract's lifecycle but sits below this app: hand it the reader.
        from closedloop.crm.services.stages import use_lifecycle_source
        from closedloop.definitions.services import current_lifecycle

        use_lifecycle_source(current_lifecycle)
