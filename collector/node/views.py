"""osquery's TLS remote API as Django views.

The endpoints that need an enrolled host live in collector.node.endpoints, free of Django, so
the WSGI fast path (collector.node.wsgi) answers them with the same code; production agent
traffic reaches these views only when that path passes a request on. Enroll and carve blocks,
which run without a node key, are answered here.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views import View

from accounts import ratelimit
from collector.services import carves
from hosts.services import EnrollBusy, EnrollError, host_enroll

from .body import AgentError, parse_agent_json
from .endpoints import NodeEndpoint, Reply, error_reply, guarded, json_reply, node_request


def http_reply(reply: Reply) -> HttpResponse:
    status, body = reply
    return HttpResponse(body, status=status, content_type="application/json")


class AgentView(View):
    """A POST of JSON answered with JSON, whatever goes wrong (see collector.node.endpoints)."""

    # Everything else, OPTIONS included (Django's default OPTIONS reply is empty), gets a JSON 405.
    http_method_names = ["post"]

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return http_reply(error_reply(f"{request.method} is not allowed; osquery agents POST JSON here", 405))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return http_reply(guarded(request.path, lambda: self.reply(request, parse_agent_json(request.META, request))))

    def reply(self, request: HttpRequest, payload: dict[str, Any]) -> Reply:
        raise NotImplementedError


class NodeEndpointView(AgentView):
    """An endpoint that needs the host behind a node key; `endpoint` says which."""

    endpoint: NodeEndpoint | None = None  # set by as_view(endpoint=...) in collector/node_urls.py

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        assert self.endpoint is not None
        return http_reply(node_request(self.endpoint, request.META, request))


class EnrollView(AgentView):
    def reply(self, request: HttpRequest, payload: dict[str, Any]) -> Reply:
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


class CarveBlockView(AgentView):
    # Blocks carry no node key before osquery 5.23; the session id (random, issued at begin to an
    # authenticated host) is what authorises them.

    def reply(self, request: HttpRequest, payload: dict[str, Any]) -> Reply:
        try:
            carves.carve_block_store(payload=payload)
        except carves.CarveError as exc:
            raise AgentError(str(exc)) from exc
        return json_reply({})


def unknown_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    return http_reply(error_reply(f"unknown agent endpoint {request.path!r}", 404))
