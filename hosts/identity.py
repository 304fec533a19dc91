"""Hardware identifiers that do not identify a machine.

Unconfigured firmware reports the same placeholder UUID or serial on many machines. Matching
re-enrolls on them would merge unrelated hosts, so enrollment and vitals ingestion both treat
them as absent.
"""

from typing import Any

PLACEHOLDER_UUIDS = {
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "03000200-0400-0500-0006-000700080009",
    "00020003-0004-0005-0006-000700080009",
}
PLACEHOLDER_SERIALS = {
    "",
    "0",
    "-1",
    "none",
    "default",
    "default string",
    "to be filled by o.e.m.",
    "system serial number",
    "not specified",
    "0123456789",
}


def real_uuid(value: Any) -> str:
    """The UUID, or "" for a placeholder or a value that is not a string."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return "" if value.lower() in PLACEHOLDER_UUIDS else value[:255]


def real_serial(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return "" if value.lower() in PLACEHOLDER_SERIALS else value[:255]
