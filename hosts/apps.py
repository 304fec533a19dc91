from django.apps import AppConfig


class HostsConfig(AppConfig):
    name = "hosts"

    def ready(self) -> None:
        from .inventory import provider  # noqa: F401 - registers the detail-query hooks
