from django.apps import AppConfig


class HostsConfig(AppConfig):
    name = "hosts"

    def ready(self) -> None:
        from .inventory import provider, signals  # noqa: F401 - provider registers the detail-query hooks

        signals.connect()
