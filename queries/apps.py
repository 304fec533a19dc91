from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "queries"

    def ready(self) -> None:
        from . import invalidation, live  # noqa: F401 - live registers its distributed hooks

        invalidation.connect()
