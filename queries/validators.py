from django.core.exceptions import ValidationError

# osquery skips scheduled queries whose names collide with its own database keys
# (osquery/database/database.cpp kReservedDbPrefixes / kReservedDbSuffixes).
RESERVED_NAME_PREFIXES = ("query.", "cache.", "config_views.")
RESERVED_NAME_SUFFIXES = ("epoch", "counter")
MAX_INTERVAL = 604800


def validate_schedule_name(name: str) -> None:
    """osquery silently skips a scheduled query with a reserved name; refuse it up front."""
    if not name or not name.strip():
        raise ValidationError("query name must not be empty")
    if name.startswith(RESERVED_NAME_PREFIXES):
        raise ValidationError(
            f"query name {name!r} starts with a prefix osquery reserves ({', '.join(RESERVED_NAME_PREFIXES)}); "
            "the agent would skip it"
        )
    if name.endswith(RESERVED_NAME_SUFFIXES):
        raise ValidationError(
            f"query name {name!r} ends with 'epoch' or 'counter', which osquery reserves; the agent would skip it"
        )


def validate_interval(value: object) -> int:
    try:
        interval = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(f"interval {value!r} is not a whole number of seconds") from None
    if not 1 <= interval <= MAX_INTERVAL:
        raise ValidationError(f"interval {interval} is outside 1..{MAX_INTERVAL} seconds; osquery would skip the query")
    return interval
