"""Agent options: the defaults fleetweb serves and the checks an edit must pass."""

from typing import Any

from django.core.exceptions import ValidationError

from .validators import MAX_INTERVAL

DEFAULT_AGENT_OPTIONS: dict[str, Any] = {
    "options": {
        # "/" cannot appear in osquery's own pack names, so result names split unambiguously
        # back into pack and query.
        "pack_delimiter": "/",
        "logger_tls_period": 10,
        "distributed_interval": 10,
        "distributed_tls_max_attempts": 3,
        "logger_tls_endpoint": "/api/osquery/log",
        "logger_tls_max_lines": 1024,
    },
    "decorators": {
        "load": [
            "SELECT uuid AS host_uuid FROM system_info;",
            "SELECT hostname AS hostname FROM system_info;",
        ]
    },
}

# Top-level config keys osquery reads (protocol doc §8). `packs` and `schedule` are rendered by
# fleetweb from its own models, so operators may not set them here.
ALLOWED_CONFIG_KEYS = {
    "options",
    "decorators",
    "file_paths",
    "file_paths_query",
    "exclude_paths",
    "file_accesses",
    "yara",
    "auto_table_construction",
    "events",
    "views",
    "prometheus_targets",
    "feature_vectors",
    "kafka_topics",
    "logger",
}
KNOWN_PLATFORMS = {"darwin", "linux", "windows"}


def _check_config(config: Any, where: str) -> None:
    if not isinstance(config, dict):
        raise ValidationError(f"{where} must be an object")
    unknown = sorted(set(config) - ALLOWED_CONFIG_KEYS)
    if unknown:
        raise ValidationError(
            f"{where}: unsupported key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(ALLOWED_CONFIG_KEYS))}"
        )
    options = config.get("options", {})
    if not isinstance(options, dict):
        raise ValidationError(f"{where}.options must be an object")
    for name, value in options.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValidationError(f"{where}.options.{name} must be a string, number or boolean")
    for name in ("distributed_interval", "logger_tls_period", "config_refresh"):
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValidationError(f"{where}.options.{name} must be a non-negative integer")
    decorators = config.get("decorators", {})
    if not isinstance(decorators, dict):
        raise ValidationError(f"{where}.decorators must be an object")
    for kind in ("load", "always"):
        queries = decorators.get(kind, [])
        if not isinstance(queries, list) or not all(isinstance(q, str) and q.strip() for q in queries):
            raise ValidationError(f"{where}.decorators.{kind} must be a list of SQL strings")
    intervals = decorators.get("interval", {})
    if not isinstance(intervals, dict):
        raise ValidationError(f"{where}.decorators.interval must be an object")
    for seconds, queries in intervals.items():
        if not str(seconds).isdigit() or int(seconds) % 60 or not 60 <= int(seconds) <= MAX_INTERVAL:
            raise ValidationError(f"{where}.decorators.interval key {seconds!r} must be a multiple of 60 seconds")
        if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
            raise ValidationError(f"{where}.decorators.interval.{seconds} must be a list of SQL strings")


def validate_agent_options(config: Any, overrides: Any) -> None:
    """Raise ValidationError with a precise path when the options would break agents."""
    _check_config(config or {}, "config")
    if overrides in (None, {}):
        return
    if not isinstance(overrides, dict) or set(overrides) - {"platforms"}:
        raise ValidationError("overrides must be an object with only a 'platforms' key")
    platforms = overrides.get("platforms") or {}
    if not isinstance(platforms, dict):
        raise ValidationError("overrides.platforms must be an object")
    for platform, config_override in platforms.items():
        if platform not in KNOWN_PLATFORMS:
            raise ValidationError(f"overrides.platforms: unknown platform {platform!r}; use darwin, linux or windows")
        _check_config(config_override, f"overrides.platforms.{platform}")
