"""The agent endpoints that need an enrolled host, free of any web framework.

Each handler takes the host (resolved from the node key in one Redis round trip, hosts.checkin),
the parsed body and the per-host Redis state it asked for, and returns the reply's status and
JSON bytes. The Django views (collector/node/views.py) and the WSGI fast path
(collector/node/wsgi.py) both call `node_request`, so an agent gets the same answer from either.

The agent ignores HTTP status codes and reads only the JSON body (protocol doc §1.4): every
failure must be a JSON object carrying `error` (or `node_invalid: true`), and a success must
never carry `error`. Status codes are still set sensibly for proxies and people.
"""

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import DatabaseError
from redis.exceptions import RedisError

from collector import distributed
from collector.services import carves, logs
from fleetweb.redis import embedded_sync
from hosts.checkin import Prefetch, node_checkin
from hosts.node_cache import NodeHost
from queries.agent_config import CONFIG_PREFETCH, ConfigUnservable, config_for_node

from .body import AgentError, node_key_from, parse_agent_json

log = logging.getLogger(__name__)

# (HTTP status, JSON body): what every agent endpoint answers, whatever serves it.
Reply = tuple[int, bytes]


def json_reply(body: dict[str, Any] | bytes, status: int = 200) -> Reply:
    return status, body if isinstance(body, bytes) else orjson.dumps(body)


def error_reply(message: str, status: int = 400) -> Reply:
    return json_reply({"error": message}, status)


EMPTY_REPLY = json_reply({})
NODE_INVALID_REPLY = json_reply({"node_invalid": True, "error": "invalid node key"}, 401)


def guarded(path: str, answer: Callable[[], Reply]) -> Reply:
    """`answer()`, with every failure turned into a JSON error the agent retries on."""
    try:
        return answer()
    except AgentError as exc:
        return error_reply(exc.message, exc.status)
    except (DatabaseError, RedisError, OSError):
        # Storage is down: refuse, so the agent keeps its data and retries later.
        log.exception("agent request to %s failed on storage", path)
        return error_reply("server storage is temporarily unavailable; retry later", 503)
    except Exception:
        log.exception("agent request to %s failed", path)
        return error_reply("internal server error; retry later", 500)


@dataclass(frozen=True)
class NodeEndpoint:
    name: str
    handle: Callable[[NodeHost, dict[str, Any], list[Any]], Reply]
    # Per-host Redis state `handle` needs, fetched in the node-key round trip (hosts.checkin).
    prefetch: Callable[[], Sequence[Prefetch]] = tuple


def node_request(endpoint: NodeEndpoint, meta: Mapping[str, Any], stream: Any) -> Reply:
    """Answer one agent request: `meta` is the WSGI environ (or a Django request's META), `stream`
    what the body is read from."""

    def answer() -> Reply:
        payload = parse_agent_json(meta, stream)
        embedded_sync()
        checkin = node_checkin(node_key_from(meta, payload), endpoint.prefetch())
        if checkin is None:
            return NODE_INVALID_REPLY
        return endpoint.handle(checkin.node, payload, checkin.prefetched)

    return guarded(meta.get("PATH_INFO", ""), answer)


def config(node: NodeHost, payload: dict[str, Any], prefetched: list[Any]) -> Reply:
    try:
        return json_reply(config_for_node(node, prefetched))
    except ConfigUnservable as exc:
        # `error` makes the agent keep the config it runs; an oversized one would wipe it.
        return error_reply(str(exc), 500)


def log_post(node: NodeHost, payload: dict[str, Any], prefetched: list[Any]) -> Reply:
    try:
        log_type, lines = logs.validate_log_payload(payload)
        logs.log_batch_store(node=node, log_type=log_type, lines=lines)
    except logs.LogRejected as exc:
        raise AgentError(str(exc), exc.status) from exc
    return EMPTY_REPLY


def distributed_read(node: NodeHost, payload: dict[str, Any], prefetched: list[Any]) -> Reply:
    work = distributed.distributed_read(node, time.time(), prefetched)
    body: dict[str, Any] = {"queries": work.queries}
    if work.discovery:
        body["discovery"] = work.discovery
    if work.accelerate:
        body["accelerate"] = work.accelerate  # an int: the agent ignores "60" (protocol doc §5.3)
    return json_reply(body)


def distributed_write(node: NodeHost, payload: dict[str, Any], prefetched: list[Any]) -> Reply:
    try:
        results = distributed.parse_write(payload)
    except ValueError as exc:
        raise AgentError(str(exc)) from exc
    distributed.distributed_write(node, results)
    return EMPTY_REPLY


def carve_begin(node: NodeHost, payload: dict[str, Any], prefetched: list[Any]) -> Reply:
    try:
        session = carves.carve_begin(node=node, payload=payload)
    except carves.CarveError as exc:
        raise AgentError(str(exc)) from exc
    return json_reply({"session_id": session.session_id})


# By the path after the agent prefix (/api/osquery/, /api/v1/osquery/).
NODE_ENDPOINTS = {
    e.name: e
    for e in (
        NodeEndpoint("config", config, lambda: CONFIG_PREFETCH),
        NodeEndpoint("log", log_post),
        NodeEndpoint("distributed/read", distributed_read, distributed.read_prefetch),
        NodeEndpoint("distributed/write", distributed_write),
        NodeEndpoint("carve/begin", carve_begin),
    )
}
