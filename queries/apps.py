from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "queries"

    def ready(self) -> None:
        # live and membership register their distributed-query hooks on import.
        from . import invalidation, live, membership  # noqa: F401

        invalidation.connect()
        membership.connect()
