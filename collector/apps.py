from django.apps import AppConfig


class CollectorConfig(AppConfig):
    name = "collector"

    def ready(self) -> None:
        # Registers the intake -> forwarding hooks.
        from . import tasks  # noqa: F401
