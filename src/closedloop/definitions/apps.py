from django.apps import AppConfig


class DefinitionsConfig(AppConfig):
    name = "closedloop.definitions"
    label = "definitions"
    verbose_name = "Definitions contract"

    def ready(self) -> None:
        # crm enforces the contract's lifecycle and pipeline but sits below this app: hand it
        # the readers.
        from closedloop.crm.services.pipeline import use_pipeline_source
        from closedloop.crm.services.stages import use_lifecycle_source
        from closedloop.definitions.services import current_lifecycle, current_pipeline

        use_lifecycle_source(current_lifecycle)
        use_pipeline_source(current_pipeline)
