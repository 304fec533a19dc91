from typing import Any

from django.core.management.base import BaseCommand

from queries.builtin import builtin_load


class Command(BaseCommand):
    help = "Create or restore the built-in labels, default agent options and the macOS pack."

    def handle(self, *args: Any, **options: Any) -> None:
        for kind, name, status in builtin_load():
            self.stdout.write(f"{kind} {name!r}: {status}")
