"""Query reports: the latest result rows of each scheduled query per host, and the latest status
lines per host, so an analyst can look without a SIEM."""

from typing import Any

import orjson
from django.db import connection
from django.utils import timezone

from fleetweb.conf import fleet_setting

from ..forwarding.parse import as_number, split_query_name
from ..models import QueryReportRow, StatusLogLine
from .bulk import insert_rows

# Status messages that say a scheduled query was (or is about to be) denylisted by the watchdog
# (protocol doc §7.6), plus older agents' wording.
DENYLIST_PREFIXES = (
    "scheduled query may have failed:",
    "the caller does not want denied queries, skipping denied scheduled query:",
)
DENYLIST_WORDS = ("denylist", "blacklist")


def is_denylist_message(message: str) -> bool:
    lowered = message.lower()
    return lowered.startswith(DENYLIST_PREFIXES) or any(word in lowered for word in DENYLIST_WORDS)


_REPORT_COLUMNS = ["host_id", "name", "pack", "query", "columns", "unix_time", "stored_at"]


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def query_reports_store(*, host_id: int, lines: list[dict[str, Any]], packs: frozenset[str], delimiters: str) -> None:
    """A snapshot replaces the query's rows; event and batch formats add their `added` rows.
    Each query keeps at most REPORT_MAX_ROWS, newest first."""
    replaced: dict[str, list[tuple[dict[str, Any], int]]] = {}
    appended: dict[str, list[tuple[dict[str, Any], int]]] = {}
    for line in lines:
        name = line.get("name")
        if not isinstance(name, str) or not name:
            continue
        unix_time = int(as_number(line.get("unixTime")) or 0)
        if "snapshot" in line:
            replaced[name] = [(row, unix_time) for row in _rows(line["snapshot"])]
            appended.pop(name, None)
        elif isinstance(line.get("columns"), dict):
            if line.get("action") != "removed":
                appended.setdefault(name, []).append((line["columns"], unix_time))
        elif isinstance(line.get("diffResults"), dict):
            appended.setdefault(name, []).extend((row, unix_time) for row in _rows(line["diffResults"].get("added")))
    if replaced:
        QueryReportRow.objects.filter(host_id=host_id, name__in=replaced).delete()
    cap: int = fleet_setting("REPORT_MAX_ROWS")
    stored_at = connection.ops.adapt_datetimefield_value(timezone.now())
    values: list[tuple[Any, ...]] = []
    for source in (replaced, appended):
        for name, rows in source.items():
            pack, query = split_query_name(name, packs, delimiters)
            values.extend(
                (host_id, name[:255], pack[:255], query[:255], orjson.dumps(row).decode(), t, stored_at)
                for row, t in rows[-cap:]
            )
    insert_rows(QueryReportRow, _REPORT_COLUMNS, values, ignore=False)
    for name in appended:
        _trim(QueryReportRow.objects.filter(host_id=host_id, name=name[:255]), cap)


def _trim(queryset: Any, keep: int) -> None:
    """Delete all but the newest `keep` rows of the queryset (two statements)."""
    cutoff = list(queryset.order_by("-id").values_list("id", flat=True)[keep : keep + 1])
    if cutoff:
        queryset.filter(id__lte=cutoff[0]).delete()


def status_lines_store(*, host_id: int, lines: list[dict[str, Any]]) -> None:
    rows = []
    for line in lines:
        severity = as_number(line.get("severity"))
        number = as_number(line.get("line"))
        message = str(line.get("message", ""))
        rows.append(
            StatusLogLine(
                host_id=host_id,
                # Clamped to the columns' ranges: a hostile value must not fail the whole batch.
                severity=min(max(0, int(severity)), 32767) if severity is not None else 0,
                filename=str(line.get("filename", ""))[:255],
                line=int(number) if number is not None and 0 <= number < 2**31 else None,
                message=message,
                version=str(line.get("version", ""))[:64],
                unix_time=int(as_number(line.get("unixTime")) or 0),
                denylisted=is_denylist_message(message),
            )
        )
    StatusLogLine.objects.bulk_create(rows, batch_size=1000)
    _trim(StatusLogLine.objects.filter(host_id=host_id), fleet_setting("STATUS_LINES_PER_HOST"))
