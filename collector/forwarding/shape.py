"""Per-destination routing and shaping: which events a destination gets and what they look like."""

import fnmatch
import re
from functools import lru_cache
from typing import Any

from .parse import Event, as_number

SEVERITY_NAMES = {0: "INFO", 1: "WARNING", 2: "ERROR", 3: "FATAL"}
MASK_DEFAULT = "********"


def patterns(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]


def name_matches(event: Event, globs: list[str]) -> bool:
    """A glob matches the logged name (pack/p/q) or the bare query name."""
    return any(
        fnmatch.fnmatchcase(event.name, g) or (event.query and fnmatch.fnmatchcase(event.query, g)) for g in globs
    )


def routed(event: Event, *, include: list[str], exclude: list[str]) -> bool:
    """Status lines have no query name: include/exclude patterns only apply to results."""
    if event.log_type != "result":
        return True
    if include and not name_matches(event, include):
        return False
    return not (exclude and name_matches(event, exclude))


def _metadata(line: dict[str, Any]) -> dict[str, Any]:
    unix_time = as_number(line.get("unixTime"))
    return {
        "hostIdentifier": line.get("hostIdentifier"),
        "calendarTime": line.get("calendarTime"),
        "unixTime": int(unix_time) if unix_time is not None else None,
    }


def document(event: Event, *, raw: bool) -> dict[str, Any]:
    """The event as the SIEM sees it, before drop/mask rules and enrichment."""
    if raw:
        return {"event_id": event.event_id, "log_type": event.log_type, "line": event.line}
    doc: dict[str, Any] = {"event_id": event.event_id, "log_type": event.log_type, **_metadata(event.line)}
    line = event.line
    if event.log_type == "status":
        severity = as_number(line.get("severity"))
        doc.update(
            severity=int(severity) if severity is not None else None,
            severity_name=SEVERITY_NAMES.get(int(severity), "UNKNOWN") if severity is not None else "UNKNOWN",
            filename=line.get("filename"),
            line=line.get("line"),
            message=line.get("message"),
            version=line.get("version"),
        )
    else:
        counter = as_number(line.get("counter"))
        epoch = as_number(line.get("epoch"))
        doc.update(
            name=event.name,
            pack=event.pack,
            query=event.query,
            action=event.action,
            epoch=int(epoch) if epoch is not None else None,
            counter=int(counter) if counter is not None else None,
            numerics=bool(line.get("numerics", False)),
            columns=event.row if event.row is not None else {},
        )
        if event.row is None:
            # A line of a shape we do not know: keep all of it rather than lose data.
            doc["line"] = line
    doc["decorations"] = event.decorations
    return doc


def _walk(doc: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, str]:
    parts = path.split(".")
    node: Any = doc
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None, parts[-1]
    return (node if isinstance(node, dict) else None), parts[-1]


def drop_fields(doc: dict[str, Any], paths: list[str]) -> None:
    for path in paths:
        parent, key = _walk(doc, path)
        if parent is not None:
            parent.pop(key, None)


@lru_cache(maxsize=256)
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def mask_fields(doc: dict[str, Any], rules: list[dict[str, Any]]) -> None:
    """Each rule masks one dotted field: the matches of `regex`, or the whole value without one."""
    for rule in rules:
        parent, key = _walk(doc, str(rule.get("field", "")))
        if parent is None or key not in parent or parent[key] is None:
            continue
        replacement = str(rule.get("replacement", MASK_DEFAULT))
        regex = rule.get("regex")
        if regex:
            parent[key] = _compiled(str(regex)).sub(replacement, str(parent[key]))
        else:
            parent[key] = replacement


def validate_rules(drop: Any, mask: Any) -> list[str]:
    """Problems with a destination's drop/mask rules, as messages for the admin form."""
    problems = []
    if not isinstance(drop, list) or not all(isinstance(p, str) and p for p in drop):
        problems.append("drop_fields must be a list of dotted field paths")
    if not isinstance(mask, list):
        problems.append("mask_fields must be a list of {field, regex?, replacement?} objects")
        return problems
    for rule in mask:
        if not isinstance(rule, dict) or not isinstance(rule.get("field"), str) or not rule["field"]:
            problems.append(f"mask rule {rule!r} needs a 'field'")
            continue
        if rule.get("regex"):
            try:
                re.compile(str(rule["regex"]))
            except re.error as exc:
                problems.append(f"mask rule for {rule['field']}: bad regex: {exc}")
    return problems
