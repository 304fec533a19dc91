from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from queries.specs import SpecError, apply_spec_text


class Command(BaseCommand):
    help = "Apply Fleet-style YAML specs (apiVersion v1: query, pack, label, policy, config, enroll_secret)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-f", "--file", dest="file", required=True, help="YAML file with one or more documents")
        parser.add_argument("--dry-run", action="store_true", help="validate and report without writing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"{path}:0: cannot read file: {exc}")
            raise SystemExit(1) from None
        try:
            report = apply_spec_text(text, str(path), dry_run=options["dry_run"])
        except SpecError as exc:
            self.stderr.write(str(exc))
            raise SystemExit(1) from None
        for line in report.lines():
            self.stdout.write(line)
