"""Reading an osquery flags file, to move what can be set remotely into the agent options.

A flags file (`--flagfile`) has one `--name=value` per line; `--name` alone means true and
`--noname` false (gflags). Only flags osquery accepts from a config's `options` are imported;
everything else (endpoints, TLS, enrollment, carver, watchdog: the CLI-only flags, protocol doc
§8.4, and flags not known to be settable remotely) stays in the flags file and is listed.
"""

import re
from dataclasses import dataclass, field
from typing import Any

# Normal (not CLI-only) flags osquery reads from a config's `options` (protocol doc §8.4).
REMOTE_FLAGS = {
    "distributed_interval",
    "distributed_tls_read_endpoint",
    "distributed_tls_write_endpoint",
    "distributed_tls_max_attempts",
    "logger_tls_period",
    "logger_tls_max_lines",
    "logger_tls_max_linesize",
    "logger_tls_compress",
    "logger_tls_endpoint",
    "logger_tls_backoff_max",
    "tls_disable_status_log",
    "buffered_log_max",
    "logger_event_type",
    "logger_snapshot_event_type",
    "logger_numerics",
    "decorations_top_level",
    "disable_decorators",
    "schedule_epoch",
    "schedule_splay_percent",
    "schedule_default_interval",
    "pack_delimiter",
    "pack_refresh_interval",
    "host_identifier",
    "events_expiry",
    "events_max",
    "disable_events",
    "disable_audit",
    "disable_endpointsecurity",
}
# osquery accepts any custom_* option; audit_allow_* are normal flags.
REMOTE_PREFIXES = ("audit_allow_", "custom_")
# Read at start-up only: importing them changes nothing until the agent restarts.
STARTUP_ONLY = {"disable_events", "disable_audit", "disable_endpointsecurity", "events_expiry", "events_max"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class FlagsFileError(Exception):
    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line
        self.message = message


@dataclass
class ParsedFlags:
    # Flags that can move into the agent options, with typed values.
    options: dict[str, Any] = field(default_factory=dict)
    # (line, flag, why it stays in the flags file)
    kept: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _typed(value: str) -> bool | int | str:
    """The option value osquery would hold: booleans and integers as such, the rest verbatim
    (gflags takes everything after `=` literally, quotes included)."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if re.fullmatch(r"-?\d{1,18}", value):
        return int(value)
    return value


def _split(text: str, filename: str, number: int) -> tuple[str, bool | int | str]:
    if not text.startswith("-"):
        raise FlagsFileError(filename, number, f"expected --name=value, got {text[:60]!r}")
    body = text.lstrip("-")
    name, has_value, value = body.partition("=")
    name = name.strip()
    if not _NAME.match(name):
        raise FlagsFileError(filename, number, f"{name[:60]!r} is not a flag name")
    if has_value:
        return name, _typed(value.strip())
    # gflags: `--name` sets a boolean true, `--noname` false.
    if name.startswith("no") and len(name) > 2:
        return name[2:], False
    return name, True


def parse_flags_text(text: str, filename: str) -> ParsedFlags:
    parsed = ParsedFlags()
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, value = _split(line, filename, number)
        if name in seen:
            parsed.warnings.append(f"{filename}:{number}: --{name} repeats line {seen[name]}; the last one wins")
        seen[name] = number
        if name in REMOTE_FLAGS or name.startswith(REMOTE_PREFIXES):
            parsed.options[name] = value
            if name in STARTUP_ONLY:
                parsed.warnings.append(
                    f"{filename}:{number}: --{name} is read at start-up; keep it in the flags file too"
                )
        else:
            parsed.kept.append((number, name, "CLI-only or not settable from the config"))
    return parsed
