"""Read osquery pack files (`.conf`) and whole osquery configs with the agent's own tolerance.

osquery strips lines whose first non-blank characters are `#` or `//`, joins lines ending in a
backslash, and accepts trailing commas (its shipped `osquery.example.conf` relies on that). Field
values are read the way `Pack::initialize` reads them (protocol doc §8.1): intervals may be numbers
or numeric strings, booleans may be `true`/`"true"`/`"t"`/numbers. What osquery would skip with a
WARNING (reserved names, bad intervals, missing SQL) is skipped here too and reported, so the
server never schedules a query the agent would ignore.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from .validators import MAX_INTERVAL, validate_schedule_name

# osquery's --schedule_default_interval.
DEFAULT_INTERVAL = 3600
# The pack osquery builds from a config's top-level `schedule`.
SCHEDULE_PACK_NAME = "main"
_PACK_KNOWN_KEYS = {"queries", "platform", "version", "shard", "discovery", "oncall"}
_QUERY_KNOWN_KEYS = {
    "query",
    "interval",
    "snapshot",
    "removed",
    "platform",
    "version",
    "shard",
    "denylist",
    "blacklist",
    "description",
    "value",
    "startup_priority",
}


class PackConfError(Exception):
    """A pack or config file osquery could not read at all."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line
        self.message = message


@dataclass
class ParsedQuery:
    name: str
    sql: str
    interval: int
    snapshot: bool = False
    removed: bool = True
    platform: str = ""
    version: str = ""
    shard: int | None = None
    denylist: bool = True
    description: str = ""
    value: str = ""

    @property
    def logging(self) -> str:
        """The ScheduledQuery.logging choice osquery's snapshot/removed flags amount to."""
        if self.snapshot:
            return "snapshot"
        return "differential" if self.removed else "differential_ignore_removals"


@dataclass
class ParsedPack:
    name: str
    queries: list[ParsedQuery] = field(default_factory=list)
    platform: str = ""
    version: str = ""
    shard: int | None = None
    discovery: list[str] = field(default_factory=list)
    # What osquery would skip, as "file:line: message" strings.
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedFile:
    packs: list[ParsedPack]
    warnings: list[str] = field(default_factory=list)

    @property
    def all_warnings(self) -> list[str]:
        return [*self.warnings, *(w for pack in self.packs for w in pack.warnings)]


def strip_osquery_comments(text: str) -> str:
    """osquery's comment and continuation handling, keeping line numbers stable.

    A backslash-newline is removed (the next line's indentation stays inside the joined line, as in
    osquery), and the joined line is followed by blank lines so later lines keep their numbers.
    Comment lines become blank lines.
    """
    out: list[str] = []
    pending = ""
    consumed = 0
    for raw in text.split("\n"):
        raw = raw.removesuffix("\r")
        if raw.endswith("\\"):
            pending += raw[:-1]
            consumed += 1
            continue
        line = (pending + raw).strip()
        pending = ""
        if line.startswith("#") or line.startswith("//"):
            line = ""
        out.append(line)
        out.extend([""] * consumed)
        consumed = 0
    if pending:
        out.append(pending.strip())
        out.extend([""] * (consumed - 1))
    return "\n".join(out)


def _drop_trailing_commas(text: str) -> str:
    """Remove commas directly before `}` or `]` outside strings."""
    out: list[str] = []
    in_string = False
    escaped = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == ",":
            j = i + 1
            while j < len(text) and text[j] in " \t\r\n":
                j += 1
            if j >= len(text) or text[j] not in "}]":
                out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


class _KeyLines:
    """Remembers the line each object key sits on, so messages can point at it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._pattern = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')

    def line_of(self, key: str, after_line: int = 1) -> int:
        offset = 0
        if after_line > 1:
            offset = sum(len(line) + 1 for line in self.text.split("\n")[: after_line - 1])
        for match in self._pattern.finditer(self.text, offset):
            try:
                found = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            if found == key:
                return self.text.count("\n", 0, match.start()) + 1
        return after_line


def _load_json(text: str, filename: str) -> tuple[Any, list[tuple[str, str]]]:
    duplicates: list[tuple[str, str]] = []

    def first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # rapidjson keeps every member and osquery reads the first; later duplicates are ignored.
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                duplicates.append((key, "duplicate key ignored, as osquery does"))
                continue
            obj[key] = value
        return obj

    try:
        return json.loads(text, object_pairs_hook=first_wins), duplicates
    except json.JSONDecodeError as exc:
        raise PackConfError(filename, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})") from None


def _as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("true", "t")
    return default


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


class _PackReader:
    def __init__(self, filename: str, lines: _KeyLines) -> None:
        self.filename = filename
        self.lines = lines

    def warn(self, pack: ParsedPack, line: int, message: str) -> None:
        pack.warnings.append(f"{self.filename}:{line}: {message}")

    def read_pack(self, name: str, obj: Any, line: int) -> ParsedPack:
        if not isinstance(obj, dict):
            raise PackConfError(self.filename, line, f"pack {name!r} must be a JSON object")
        pack = ParsedPack(name=name)
        extra = sorted(set(obj) - _PACK_KNOWN_KEYS)
        if extra:
            # osquery applies pack-level parser keys (file_paths, ...) while the pack is active;
            # fleetweb packs carry scheduled queries only.
            self.warn(pack, line, f"pack {name!r}: key(s) {', '.join(extra)} not imported")
        pack.platform = _as_text(obj.get("platform")).strip()
        pack.version = _as_text(obj.get("version")).strip()
        pack.shard = self._shard(pack, obj.get("shard"), line, f"pack {name!r}")
        discovery = obj.get("discovery") or []
        if isinstance(discovery, str):
            discovery = [discovery]  # one query, not a list of characters
        elif not isinstance(discovery, list):
            self.warn(pack, line, f"pack {name!r}: discovery must be a list of SQL strings; ignored")
            discovery = []
        for index, sql in enumerate(discovery):
            if isinstance(sql, str) and sql.strip():
                pack.discovery.append(sql)
            else:
                self.warn(
                    pack, line, f"pack {name!r}: discovery entry {index} is not an SQL string; osquery ignores it"
                )
        queries = obj.get("queries")
        if queries is None:
            queries = {}
        if not isinstance(queries, dict):
            raise PackConfError(
                self.filename, self.lines.line_of("queries", line), f"pack {name!r}: 'queries' must be an object"
            )
        for query_name, query_obj in queries.items():
            self.read_query(pack, query_name, query_obj, self.lines.line_of(query_name, line))
        return pack

    def _shard(self, pack: ParsedPack, value: Any, line: int, where: str) -> int | None:
        if value is None:
            return None
        shard = _as_int(value)
        if shard is None or not 0 <= shard <= 100:
            self.warn(pack, line, f"{where}: shard {value!r} is not 0..100; ignored")
            return None
        return shard or None

    def read_query(self, pack: ParsedPack, name: str, obj: Any, line: int) -> None:
        where = f"query {name!r}"
        if not isinstance(obj, dict):
            self.warn(pack, line, f"{where} is not an object; osquery skips it")
            return
        try:
            validate_schedule_name(name)
        except ValidationError as exc:
            self.warn(pack, line, f"{exc.messages[0]}; skipped")
            return
        sql = obj.get("query")
        if not isinstance(sql, str) or not sql.strip():
            self.warn(pack, line, f"{where} has no 'query' string; osquery skips it")
            return
        raw_interval = obj.get("interval", DEFAULT_INTERVAL)
        interval = _as_int(raw_interval)
        if interval is None or not 1 <= interval <= MAX_INTERVAL:
            self.warn(pack, line, f"{where}: interval {raw_interval!r} is outside 1..{MAX_INTERVAL}; osquery skips it")
            return
        unknown = sorted(set(obj) - _QUERY_KNOWN_KEYS)
        if unknown:
            self.warn(pack, line, f"{where}: unknown key(s) {', '.join(unknown)} ignored")
        denylist = obj.get("denylist", obj.get("blacklist"))
        pack.queries.append(
            ParsedQuery(
                name=name,
                sql=sql,
                interval=interval,
                snapshot=_as_bool(obj.get("snapshot"), False),
                removed=_as_bool(obj.get("removed"), True),
                platform=_as_text(obj.get("platform")).strip(),
                version=_as_text(obj.get("version")).strip(),
                shard=self._shard(pack, obj.get("shard"), line, where),
                denylist=_as_bool(denylist, True),
                description=_as_text(obj.get("description")),
                value=_as_text(obj.get("value")),
            )
        )


def parse_pack_text(text: str, filename: str, *, name: str | None = None) -> "ParsedFile":
    """Parse a pack file (an object with `queries`) or a whole config (`packs` and/or `schedule`).

    A single pack is named `name`, else after the file. In a config, inline packs keep their keys
    and `schedule` becomes the pack `name` (default "main", osquery's own name for it). Packs given
    as paths are skipped with a warning: osquery cannot fetch them over TLS either.
    """
    cleaned = _drop_trailing_commas(strip_osquery_comments(text))
    if not cleaned.strip():
        raise PackConfError(filename, 1, "file is empty")
    document, duplicates = _load_json(cleaned, filename)
    if not isinstance(document, dict):
        raise PackConfError(filename, 1, "top level must be a JSON object")
    lines = _KeyLines(cleaned)
    reader = _PackReader(filename, lines)
    file_warnings: list[str] = []
    stem = Path(filename).name.split(".")[0] or "pack"
    if "queries" in document or not ({"packs", "schedule"} & set(document)):
        if "queries" not in document:
            raise PackConfError(filename, 1, "neither a pack (no 'queries') nor a config (no 'packs' or 'schedule')")
        pack = reader.read_pack(name or stem, document, 1)
        packs = [pack]
    else:
        packs = []
        schedule = document.get("schedule")
        if schedule is not None:
            line = lines.line_of("schedule")
            if not isinstance(schedule, dict):
                raise PackConfError(filename, line, "'schedule' must be an object")
            packs.append(reader.read_pack(name or SCHEDULE_PACK_NAME, {"queries": schedule}, line))
        config_packs = document.get("packs") or {}
        if not isinstance(config_packs, dict):
            raise PackConfError(filename, lines.line_of("packs"), "'packs' must be an object")
        for pack_name, pack_obj in config_packs.items():
            line = lines.line_of(pack_name, lines.line_of("packs"))
            if isinstance(pack_obj, str):
                file_warnings.append(
                    f"{filename}:{line}: pack {pack_name!r} refers to {pack_obj!r}; osquery cannot fetch packs by "
                    "path over TLS, import that file itself (skipped)"
                )
                continue
            packs.append(reader.read_pack(pack_name, pack_obj, line))
    for key, message in duplicates:
        file_warnings.append(f"{filename}:{lines.line_of(key)}: {key!r}: {message}")
    for pack in packs:
        if "/" in pack.name or not pack.name.strip():
            raise PackConfError(filename, 1, f"pack name {pack.name!r} must be non-empty and contain no '/'")
    return ParsedFile(packs=packs, warnings=file_warnings)


def parse_pack_file(path: str | Path, *, name: str | None = None) -> ParsedFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PackConfError(str(path), 0, f"cannot read file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PackConfError(str(path), 1, "file is not UTF-8 text") from None
    return parse_pack_text(text, str(path), name=name)
