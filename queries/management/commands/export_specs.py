from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from queries.specs import EXPORT_KINDS, export_specs


class Command(BaseCommand):
    help = "Print content as YAML spec documents that `manage.py apply -f` accepts unchanged."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kinds", nargs="*", help=f"any of {', '.join(EXPORT_KINDS)} (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = options["kinds"] or list(EXPORT_KINDS)
        try:
            documents = export_specs(kinds)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True), ending="")
