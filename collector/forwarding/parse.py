"""Turn stored logger lines into events: one per result row, one per status line.

Every shape osquery writes is accepted (protocol doc §7): event format (`columns` + `action`),
batch format (`diffResults` with `added`/`removed`, where an empty side may be "" instead of a
list), snapshot format (`snapshot` list, possibly empty), with decorations nested or at the top
level, and string or numeric unixTime/counter/epoch/severity. A line of an unknown shape is still
forwarded as one event (action "unknown"), never dropped.
"""

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

# Keys of a result line that are metadata, not decorations, when decorations sit at the top level.
_RESULT_KEYS = {
    "name",
    "hostIdentifier",
    "calendarTime",
    "unixTime",
    "epoch",
    "counter",
    "numerics",
    "decorations",
    "columns",
    "action",
    "snapshot",
    "diffResults",
    "query_id",
}
_STATUS_KEYS = {"hostIdentifier", "calendarTime", "unixTime", "severity", "filename", "line", "message", "version"}


@dataclass
class Event:
    event_id: str
    log_type: str
    name: str
    pack: str
    query: str
    action: str
    unix_time: float | None
    line: dict[str, Any]
    row: dict[str, Any] | None = None
    decorations: dict[str, Any] = field(default_factory=dict)


def event_id_for(batch_id: int, line_index: int, row_index: int) -> str:
    """Stable per stored row: the same for every destination and every retry, and distinct for two
    identical rows (osquery can log the same row twice)."""
    return hashlib.blake2b(f"{batch_id}:{line_index}:{row_index}".encode(), digest_size=20).hexdigest()


# Values outside a signed 64-bit integer cannot be a time, counter or severity, and would not
# survive the int() conversion into the SIEM document.
_NUMBER_LIMIT = 2.0**63


def as_number(value: Any) -> float | None:
    """unixTime, counter and severity come as numbers or as numeric strings; anything else, and
    numbers no agent could send (infinite, NaN, beyond 64 bits), read as absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and abs(number) < _NUMBER_LIMIT else None


def split_query_name(name: str, packs: frozenset[str] = frozenset(), delimiters: str = "/") -> tuple[str, str]:
    """(pack, query) for a logged query name; ("", name) when no pack can be told.

    osquery logs pack queries as pack<d><pack><d><query> where <d> is --pack_delimiter ("_" by
    default; Fleet configures "/"). With "_" a name like pack_Global_x is ambiguous, so the known
    pack names decide; with "/" the first two delimiters do.
    """
    for delim in delimiters:
        prefix = f"pack{delim}"
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        for pack in sorted(packs, key=len, reverse=True):
            if rest.startswith(pack + delim) and len(rest) > len(pack) + 1:
                return pack, rest[len(pack) + 1 :]
        if delim == "/" and delim in rest:
            pack, _, query = rest.partition(delim)
            if pack and query:
                return pack, query
    return "", name


def decorations_of(line: dict[str, Any], known: set[str]) -> dict[str, Any]:
    nested = line.get("decorations")
    if isinstance(nested, dict):
        return nested
    # Older agents (--decorations_top_level) put decorations beside the metadata.
    return {k: v for k, v in line.items() if k not in known and isinstance(v, str | int | float)}


def _rows(value: Any) -> list[dict[str, Any]]:
    """A list of row objects; "" (osquery's empty diff side) and non-lists become []."""
    if isinstance(value, list):
        return [row for row in value if isinstance(row, dict)]
    return []


def result_events(
    batch_id: int, lines: list[dict[str, Any]], packs: frozenset[str] = frozenset(), delimiters: str = "/"
) -> list[Event]:
    events: list[Event] = []
    for index, line in enumerate(lines):
        raw_name = line.get("name")
        name = raw_name if isinstance(raw_name, str) else ""
        pack, query = split_query_name(name, packs, delimiters)
        decorations = decorations_of(line, _RESULT_KEYS)
        unix_time = as_number(line.get("unixTime"))

        pairs: list[tuple[str, dict[str, Any] | None]]
        if isinstance(line.get("columns"), dict):
            pairs = [(str(line.get("action") or "added"), line["columns"])]
        elif "snapshot" in line:
            pairs = [("snapshot", row) for row in _rows(line["snapshot"])]
        elif isinstance(line.get("diffResults"), dict):
            diff = line["diffResults"]
            pairs = [(action, row) for action in ("removed", "added") for row in _rows(diff.get(action))]
        else:
            pairs = [("unknown", None)]
        events.extend(
            Event(
                event_id=event_id_for(batch_id, index, row_index),
                log_type="result",
                name=name,
                pack=pack,
                query=query,
                action=action,
                unix_time=unix_time,
                line=line,
                row=row,
                decorations=decorations,
            )
            for row_index, (action, row) in enumerate(pairs)
        )
    return events


def status_events(batch_id: int, lines: list[dict[str, Any]]) -> list[Event]:
    return [
        Event(
            event_id=event_id_for(batch_id, index, 0),
            log_type="status",
            name="",
            pack="",
            query="",
            action="status",
            unix_time=as_number(line.get("unixTime")),
            line=line,
            decorations=decorations_of(line, _STATUS_KEYS),
        )
        for index, line in enumerate(lines)
    ]


def parse_batch(
    batch_id: int,
    log_type: str,
    lines: list[dict[str, Any]],
    packs: frozenset[str] = frozenset(),
    delimiters: str = "/",
) -> list[Event]:
    if log_type == "status":
        return status_events(batch_id, lines)
    return result_events(batch_id, lines, packs, delimiters)


def raw_events(batch_id: int, log_type: str, lines: list[dict[str, Any]]) -> list[Event]:
    """One event per line, as the agent sent it, for destinations that want raw lines."""
    events = []
    for index, line in enumerate(lines):
        raw_name = line.get("name")
        name = raw_name if isinstance(raw_name, str) else ""
        events.append(
            Event(
                event_id=event_id_for(batch_id, index, -1),
                log_type=log_type,
                name=name,
                pack="",
                query=name,
                action="raw",
                unix_time=as_number(line.get("unixTime")),
                line=line,
            )
        )
    return events
