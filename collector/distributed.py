"""The distributed channel's plumbing: what a host is asked on read, where write results go.

Other apps plug in here instead of editing the endpoints:
- a *read provider* returns `{query_id: sql}` work for a host (live queries, host vitals, labels,
  policies), and optionally discovery SQL and an `accelerate` window;
- a *write handler* receives the results for the query ids that start with its prefix.

Query ids are `fleetweb_<kind>_<rest>`; results whose id matches no handler are logged and
dropped, since nothing asked for them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hosts.node_cache import NodeHost

log = logging.getLogger(__name__)


@dataclass
class ReadWork:
    queries: dict[str, str] = field(default_factory=dict)
    discovery: dict[str, str] = field(default_factory=dict)
    accelerate: int = 0

    def merge(self, other: "ReadWork") -> None:
        self.queries.update(other.queries)
        self.discovery.update(other.discovery)
        self.accelerate = max(self.accelerate, other.accelerate)


@dataclass(frozen=True)
class QueryResult:
    """One query's outcome from a distributed write."""

    query_id: str
    rows: list[dict[str, str]]
    status: int  # 0 success, anything else failure
    message: str
    stats: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.status == 0


ReadProvider = Callable[[NodeHost, float], ReadWork]
WriteHandler = Callable[[NodeHost, list[QueryResult]], None]

_read_providers: list[ReadProvider] = []
_write_handlers: dict[str, WriteHandler] = {}


def register_read_provider(provider: ReadProvider) -> ReadProvider:
    if provider not in _read_providers:
        _read_providers.append(provider)
    return provider


def register_write_handler(prefix: str) -> Callable[[WriteHandler], WriteHandler]:
    def decorator(handler: WriteHandler) -> WriteHandler:
        _write_handlers[prefix] = handler
        return handler

    return decorator


def distributed_read(node: NodeHost, now: float) -> ReadWork:
    work = ReadWork()
    for provider in _read_providers:
        work.merge(provider(node, now))
    return work


def _as_int(value: Any, default: int = 1) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def parse_write(payload: dict[str, Any]) -> list[QueryResult]:
    """Validate a distributed/write body and pair each query id with its status, message and stats.

    Raises ValueError with a precise message on a malformed body. Older agents omit `stats` and
    `messages`; a missing status means success when rows came back.
    """
    queries = payload.get("queries", {})
    statuses = payload.get("statuses", {}) or {}
    messages = payload.get("messages", {}) or {}
    stats = payload.get("stats", {}) or {}
    for name, value in (("queries", queries), ("statuses", statuses), ("messages", messages), ("stats", stats)):
        if not isinstance(value, dict):
            raise ValueError(f"'{name}' must be an object keyed by query id")
    results = []
    for query_id in sorted(set(queries) | set(statuses)):
        rows = queries.get(query_id, [])
        if rows is None or rows == "":
            rows = []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError(f"queries.{query_id} must be a list of row objects")
        clean_rows = [
            {str(k): v if isinstance(v, str) else ("" if v is None else str(v)) for k, v in r.items()} for r in rows
        ]
        message = messages.get(query_id, "")
        query_stats = stats.get(query_id) or {}
        results.append(
            QueryResult(
                query_id=str(query_id),
                rows=clean_rows,
                status=_as_int(statuses.get(query_id, 0)),
                message=message if isinstance(message, str) else str(message),
                stats={str(k): _as_int(v, 0) for k, v in query_stats.items()} if isinstance(query_stats, dict) else {},
            )
        )
    return results


def distributed_write(node: NodeHost, results: list[QueryResult]) -> None:
    by_handler: dict[str, list[QueryResult]] = {}
    for result in results:
        prefix = _prefix_of(result.query_id)
        if prefix in _write_handlers:
            by_handler.setdefault(prefix, []).append(result)
        else:
            log.info("host %s answered unknown distributed query %r; dropped", node.id, result.query_id)
    for prefix, batch in by_handler.items():
        _write_handlers[prefix](node, batch)


def _prefix_of(query_id: str) -> str:
    parts = query_id.split("_", 2)
    return "_".join(parts[:2]) if len(parts) == 3 and parts[0] == "fleetweb" else ""
