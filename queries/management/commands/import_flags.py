import copy
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from queries.agent_options import DEFAULT_AGENT_OPTIONS, KNOWN_PLATFORMS, validate_agent_options
from queries.flags_file import FlagsFileError, parse_flags_text
from queries.models import AgentOptions
from queries.specs.writers import agent_options_set


class Command(BaseCommand):
    help = (
        "Move the flags of an osquery flags file that can be set remotely into the agent options. "
        "CLI-only flags (endpoints, TLS, enrollment, carver, watchdog) are listed; they stay in the file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="osquery flags file (--flagfile)")
        parser.add_argument(
            "--platform", choices=sorted(KNOWN_PLATFORMS), help="set them for one platform only (an override)"
        )
        parser.add_argument("--dry-run", action="store_true", help="report without writing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            parsed = parse_flags_text(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"{path}:0: cannot read file: {exc}")
            raise SystemExit(1) from None
        except FlagsFileError as exc:
            self.stderr.write(str(exc))
            raise SystemExit(1) from None
        for warning in parsed.warnings:
            self.stderr.write(warning)
        for number, name, why in parsed.kept:
            self.stdout.write(f"{path}:{number}: --{name} stays in the flags file ({why})")
        if not parsed.options:
            self.stdout.write("nothing to import")
            return
        with transaction.atomic():
            current = AgentOptions.objects.select_for_update().filter(pk=1).first()
            # An empty config is served as the defaults (queries.agent_config), so start from those.
            config = copy.deepcopy(current.config if current and current.config else DEFAULT_AGENT_OPTIONS)
            overrides = dict(current.overrides if current else {})
            platform = options["platform"]
            if platform:
                platforms = dict(overrides.get("platforms") or {})
                # A platform override replaces the base config whole, so it starts from it.
                target = dict(platforms.get(platform) or config)
                target["options"] = {**(target.get("options") or {}), **parsed.options}
                platforms[platform] = target
                overrides["platforms"] = platforms
            else:
                config["options"] = {**(config.get("options") or {}), **parsed.options}
            try:
                validate_agent_options(config, overrides)
            except ValidationError as exc:
                self.stderr.write(f"{path}: {'; '.join(exc.messages)}")
                raise SystemExit(1) from None
            where = f"platform {platform}" if platform else "all platforms"
            for name, value in parsed.options.items():
                self.stdout.write(f"option {name} = {value!r} ({where})")
            if options["dry_run"]:
                self.stdout.write("dry run: nothing written")
                return
            _, status = agent_options_set(config=config, overrides=overrides)
        self.stdout.write(f"agent options {status}")
