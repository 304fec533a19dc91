"""The distributed channel's plumbing: what a host is asked on read, where write results go.

Other apps plug in here instead of editing the endpoints:
- a *read provider* returns `{query_id: sql}` work for a host (live queries, host vitals, labels,
  policies), and optionally discovery SQL and an `accelerate` window;
- a *write handler* receives the results for the query ids that start with its prefix.

Query ids are `fleetweb_<kind>_<rest>`; results whose id matches no handler are logged and
dropped, since nothing asked for them.

distributed/read is the hottest agent request (every host, every few seconds). A provider whose
state is a Redis value per host should register with `register_prefetched_read_provider`: the
value is then fetched in the same round trip that resolves the node key (hosts.checkin), and
the steady-state read costs one Redis call and no SQL.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from hosts.checkin import Prefetch, prefetch_fetch
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
PrefetchedReadProvider = Callable[[NodeHost, float, Any], ReadWork]
WriteHandler = Callable[[NodeHost, list[QueryResult]], None]

_read_providers: list[ReadProvider] = []
_prefetched_providers: list[tuple[Prefetch | tuple[Prefetch, ...], PrefetchedReadProvider]] = []
_write_handlers: dict[str, WriteHandler] = {}


def register_read_provider(provider: ReadProvider) -> ReadProvider:
    if provider not in _read_providers:
        _read_providers.append(provider)
    return provider


def register_prefetched_read_provider(
    prefetch: Prefetch | tuple[Prefetch, ...],
) -> Callable[[PrefetchedReadProvider], PrefetchedReadProvider]:
    """Register a provider called as `provider(node, now, value)`, where `value` is the Redis
    state named by `prefetch`, e.g. `("hash", "dq:{host_id}")` gives the host's hash as a dict.
    With a tuple of specs, `value` is a list with one value per spec."""

    def decorator(provider: PrefetchedReadProvider) -> PrefetchedReadProvider:
        if all(p is not provider for _, p in _prefetched_providers):
            _prefetched_providers.append((prefetch, provider))
        return provider

    return decorator


def _specs_of(prefetch: Prefetch | tuple[Prefetch, ...]) -> list[Prefetch]:
    return [prefetch] if isinstance(prefetch[0], str) else list(prefetch)  # type: ignore[list-item, arg-type]


def read_prefetch() -> list[Prefetch]:
    """What the distributed/read check-in should fetch, in provider order."""
    return [spec for prefetch, _ in _prefetched_providers for spec in _specs_of(prefetch)]


def register_write_handler(prefix: str) -> Callable[[WriteHandler], WriteHandler]:
    def decorator(handler: WriteHandler) -> WriteHandler:
        _write_handlers[prefix] = handler
        return handler

    return decorator


def distributed_read(node: NodeHost, now: float, prefetched: list[Any] | None = None) -> ReadWork:
    """The work for a host. `prefetched` holds the values for `read_prefetch()` when the caller
    already has them; otherwise they are fetched here."""
    specs = read_prefetch()
    if prefetched is None or len(prefetched) != len(specs):
        prefetched = prefetch_fetch(node.id, specs)
    work = ReadWork()
    values = iter(prefetched)
    for prefetch, prefetched_provider in _prefetched_providers:
        if isinstance(prefetch[0], str):
            work.merge(prefetched_provider(node, now, next(values)))
        else:
            work.merge(prefetched_provider(node, now, [next(values) for _ in prefetch]))
    for provider in _read_providers:
        work.merge(provider(node, now))
    return _well_formed(node, work)


def _well_formed(node: NodeHost, work: ReadWork) -> ReadWork:
    """Drop entries the agent would choke on. osquery aborts the rest of a read reply at the first
    query id or SQL that is not a non-empty string, and rejects the whole reply when a discovery
    query fails (protocol doc §5.3)."""
    queries = {k: v for k, v in work.queries.items() if isinstance(k, str) and k and isinstance(v, str) and v.strip()}
    if len(queries) != len(work.queries):
        log.warning("host %s: dropped %d malformed distributed queries", node.id, len(work.queries) - len(queries))
    discovery = {k: v for k, v in work.discovery.items() if k in queries and isinstance(v, str) and v.strip()}
    accelerate = work.accelerate if isinstance(work.accelerate, int) and not isinstance(work.accelerate, bool) else 0
    return ReadWork(queries=queries, discovery=discovery, accelerate=max(accelerate, 0))


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
    `messages` (and agents before 2.1.2 omit `statuses`: a query without a status succeeded).
    """
    sections: dict[str, dict[str, Any]] = {}
    for name in ("queries", "statuses", "messages", "stats"):
        value = payload.get(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ValueError(f"'{name}' must be an object keyed by query id, not {type(value).__name__}")
        sections[name] = value
    queries, statuses, messages, stats = (sections[n] for n in ("queries", "statuses", "messages", "stats"))
    results = []
    for query_id in sorted(set(queries) | set(statuses)):
        rows = queries.get(query_id)
        if rows is None or rows == "":
            rows = []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError(f"queries.{query_id} must be a list of row objects")
        message = messages.get(query_id, "")
        query_stats = stats.get(query_id) or {}
        results.append(
            QueryResult(
                query_id=query_id,
                rows=[{k: _cell(v) for k, v in row.items()} for row in rows],
                status=_as_int(statuses.get(query_id, 0)),
                message=message if isinstance(message, str) else str(message),
                stats={k: _as_int(v, 0) for k, v in query_stats.items()} if isinstance(query_stats, dict) else {},
            )
        )
    return results


def _cell(value: Any) -> str:
    """Distributed rows are all strings in osquery (NULL is ""); coerce anything else the same way."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value).lower() if isinstance(value, bool) else str(value)


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
