"""osquery's TLS remote API. Each endpoint is a small `handle()` on top of NodeView.

The agent ignores HTTP status codes and reads only the JSON body (protocol doc §1.4): every
failure must be a JSON object carrying `error` (or `node_invalid: true`), and a success must
never carry `error`. Status codes are still set sensibly for proxies and people.
"""

import logging
import time
from collections.abc import Sequence
from typing import Any

import orjson
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views import View
from redis.exceptions import RedisError

from accounts import ratelimit
from collector import distributed
from collector.services import carves, logs
from fleetweb.redis import embedded_sync
from hosts.checkin import Prefetch, node_checkin
from hosts.node_cache import NodeHost
from hosts.services import EnrollBusy, EnrollError, host_enroll
from queries.agent_config import CONFIG_PREFETCH, ConfigUnservable, config_for_node

from .body import AgentError, node_key_from, parse_agent_json

log = logging.getLogger(__name__)


def json_reply(body: dict[str, Any] | bytes, status: int = 200) -> HttpResponse:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return HttpResponse(content, status=status, content_type="application/json")


def error_reply(message: str, status: int = 400) -> HttpResponse:
    return json_reply({"error": message}, status)


class NodeView(View):
    """Parse the body, check the host in (node key, last seen, per-host state), call `handle()`."""

    # Everything else, OPTIONS included (Django's default OPTIONS reply is empty), gets a JSON 405.
    http_method_names = ["post"]
    requires_node = True
    # Per-host Redis state `handle()` needs, fetched in the node-key round trip (hosts.checkin).
    prefetched: list[Any]

    def prefetch(self) -> Sequence[Prefetch]:
        return ()

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return error_reply(f"{request.method} is not allowed; osquery agents POST JSON here", 405)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            payload = parse_agent_json(request)
            node = None
            self.prefetched = []
            if self.requires_node:
                embedded_sync()
                checkin = node_checkin(node_key_from(request, payload), self.prefetch())
                if checkin is None:
                    return json_reply({"node_invalid": True, "error": "invalid node key"}, 401)
                node, self.prefetched = checkin.node, checkin.prefetched
            return self.handle(request, node, payload)
        except AgentError as exc:
            return error_reply(exc.message, exc.status)
        except (DatabaseError, RedisError, OSError):
            # Storage is down: refuse, so the agent keeps its data and retries later.
            log.exception("agent request to %s failed on storage", request.path)
            return error_reply("server storage is temporarily unavailable; retry later", 503)
        except Exception:
            log.exception("agent request to %s failed", request.path)
            return error_reply("internal server error; retry later", 500)

    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        return error_reply("this endpoint does not handle requests", 500)


class EnrollView(NodeView):
    requires_node = False

    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        wait = ratelimit.enroll_wait(request)
        if wait:
            return error_reply(f"too many enroll attempts from this address; retry in {wait} s", 429)
        # --tls_secret_always puts the secret in the query string as well (protocol doc §1.1).
        secret = payload.get("enroll_secret") or request.GET.get("enroll_secret", "")
        identifier = payload.get("host_identifier", "")
        details = payload.get("host_details") or {}
        if not isinstance(secret, str) or not isinstance(identifier, str):
            raise AgentError("enroll_secret and host_identifier must be strings")
        if not isinstance(details, dict):
            raise AgentError("host_details must be an object")
        if not identifier.strip():
            system_info = details.get("system_info")
            identifier = str(system_info.get("uuid", "")).strip() if isinstance(system_info, dict) else ""
        if not identifier:
            raise AgentError("host_identifier is missing")
        try:
            _, node_key = host_enroll(
                enroll_secret=secret,
                host_identifier=identifier,
                platform_type=payload.get("platform_type"),
                host_details=details,
            )
        except EnrollError as exc:
            ratelimit.enroll_failed(request)
            return json_reply({"node_invalid": True, "error": str(exc)}, 401)
        except EnrollBusy as exc:
            return error_reply(str(exc), 409)
        return json_reply({"node_key": node_key})


class ConfigView(NodeView):
    def prefetch(self) -> Sequence[Prefetch]:
        return CONFIG_PREFETCH

    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        assert node is not None
        try:
            return json_reply(config_for_node(node, self.prefetched))
        except ConfigUnservable as exc:
            # `error` makes the agent keep the config it runs; an oversized one would wipe it.
            return error_reply(str(exc), 500)


class LogView(NodeView):
    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        assert node is not None
        try:
            log_type, lines = logs.validate_log_payload(payload)
            logs.log_batch_store(node=node, log_type=log_type, lines=lines)
        except logs.LogRejected as exc:
            raise AgentError(str(exc), exc.status) from exc
        return json_reply({})


class DistributedReadView(NodeView):
    def prefetch(self) -> Sequence[Prefetch]:
        return distributed.read_prefetch()

    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        assert node is not None
        work = distributed.distributed_read(node, time.time(), self.prefetched)
        body: dict[str, Any] = {"queries": work.queries}
        if work.discovery:
            body["discovery"] = work.discovery
        if work.accelerate:
            body["accelerate"] = work.accelerate  # an int: the agent ignores "60" (protocol doc §5.3)
        return json_reply(body)


class DistributedWriteView(NodeView):
    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        assert node is not None
        try:
            results = distributed.parse_write(payload)
        except ValueError as exc:
            raise AgentError(str(exc)) from exc
        distributed.distributed_write(node, results)
        return json_reply({})


class CarveBeginView(NodeView):
    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        assert node is not None
        try:
            session = carves.carve_begin(node=node, payload=payload)
        except carves.CarveError as exc:
            raise AgentError(str(exc)) from exc
        return json_reply({"session_id": session.session_id})


class CarveBlockView(NodeView):
    # Blocks carry no node key before osquery 5.23; the session id (random, issued at begin to an
    # authenticated host) is what authorises them.
    requires_node = False

    def handle(self, request: HttpRequest, node: NodeHost | None, payload: dict[str, Any]) -> HttpResponse:
        try:
            carves.carve_block_store(payload=payload)
        except carves.CarveError as exc:
            raise AgentError(str(exc)) from exc
        return json_reply({})


def unknown_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error_reply(f"unknown agent endpoint {request.path!r}", 404)
