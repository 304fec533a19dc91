from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from queries.pack_import import pack_import
from queries.packs_conf import PackConfError, parse_pack_file


class Command(BaseCommand):
    help = (
        "Import an osquery pack file (or the inline packs and schedule of an osquery config). "
        "Queries osquery would skip are skipped with a warning."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="pack .conf file or osquery config")
        parser.add_argument("--name", help="pack name (default: the file name without extension)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            parsed = parse_pack_file(options["file"], name=options["name"])
            report = pack_import(parsed=parsed)
        except PackConfError as exc:
            self.stderr.write(str(exc))
            raise SystemExit(1) from None
        except ValidationError as exc:
            self.stderr.write(f"{options['file']}: {'; '.join(exc.messages)}")
            raise SystemExit(1) from None
        for line in report.lines():
            self.stdout.write(line)
