"""osquery's node endpoints answered at the WSGI layer, before Django's request cycle.

Every agent POSTs to distributed/read, config and log several times a minute. On those requests
Django's handler, middleware, URL resolver and response objects cost about as much CPU as
fleetweb's own work (bench/RESULTS.md, "Serving stack"). `AgentFastPath` wraps the Django WSGI
application: a POST to a node endpoint (collector.node.endpoints) is answered here with the same
code, and so the same replies, as the Django views. Everything else goes to Django unchanged,
and so does any agent request this path is not sure about: a Host header outside ALLOWED_HOSTS
(Django answers that with its JSON 400) or plain HTTP under SECURE_SSL_REDIRECT.

What Django's request cycle does that these requests need is done here too: the database
connection upkeep its request_started/request_finished signals run, the security headers its
middleware adds to a JSON reply, and the log line it writes for a 4xx or 5xx reply.
"""

import logging
from collections.abc import Callable, Iterable
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host

from fleetweb.surfaces import AGENT_PREFIXES

from .endpoints import NODE_ENDPOINTS, NodeEndpoint, node_request

log = logging.getLogger(__name__)
# Where Django logs the 4xx and 5xx replies it sends.
request_log = logging.getLogger("django.request")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_STATUS_LINES = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


def _routes() -> dict[str, NodeEndpoint]:
    routes = {}
    for prefix in AGENT_PREFIXES:
        if prefix == "api/v1/distributed/":
            # Older agents' spelling: /api/v1/distributed/read|write.
            names = {"read": "distributed/read", "write": "distributed/write"}
        else:
            names = {name: name for name in NODE_ENDPOINTS}
        for route, name in names.items():
            # A trailing slash in an operator's flags file must work too (collector/node_urls.py).
            routes[f"/{prefix}{route}"] = routes[f"/{prefix}{route}/"] = NODE_ENDPOINTS[name]
    return routes


class AgentFastPath:
    def __init__(self, django_app: WSGIApp) -> None:
        self.django_app = django_app
        self.routes = _routes()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        endpoint = self.routes.get(environ.get("PATH_INFO", ""))
        if endpoint is None or environ.get("REQUEST_METHOD") != "POST" or not _answerable_here(environ):
            return self.django_app(environ, start_response)
        # What Django's request_started/request_finished signals do for the database, called
        # directly: dispatching the signals costs several times these calls, and their other
        # receivers (caches, URL configuration, DEBUG's query log) concern nothing done here.
        # At the start it closes a connection past CONN_MAX_AGE before the database's own idle
        # timeout can break it under this request.
        _connection_upkeep()
        status, body = node_request(endpoint, environ, environ["wsgi.input"])
        _connection_upkeep()
        if status >= 400:
            # As Django logs its 4xx and 5xx replies, so refusals (bad keys, oversized posts) show.
            request_log.log(
                logging.ERROR if status >= 500 else logging.WARNING,
                "%s: %s",
                HTTPStatus(status).phrase,
                environ.get("PATH_INFO", ""),
            )
        try:
            headers = _security_headers(environ)
        except Exception:
            # The reply is decided; a failure here must not turn it into a server error page,
            # whose empty body the agent would read as success.
            log.exception("agent request to %s: reply headers failed", environ.get("PATH_INFO"))
            headers = []
        start_response(
            _STATUS_LINES[status],
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers],
        )
        return [body]


def _connection_upkeep() -> None:
    try:
        close_old_connections()
    except Exception:
        # Closing a broken connection failed; the next request opens a new one.
        log.exception("closing an old database connection failed")


def _is_secure(environ: dict[str, Any]) -> bool:
    # As django.http.HttpRequest.is_secure reads it.
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return bool(value.split(",", 1)[0].strip() == secure_value)
    return bool(environ.get("wsgi.url_scheme") == "https")


def _answerable_here(environ: dict[str, Any]) -> bool:
    """False for what Django must answer: a Host it does not accept, a redirect to HTTPS."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    elif "HTTP_HOST" in environ:
        host = environ["HTTP_HOST"]  # an empty Host is refused, as Django refuses it
    else:
        host = f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    if not _host_allowed(host, tuple(settings.ALLOWED_HOSTS)):
        return False
    return not settings.SECURE_SSL_REDIRECT or _is_secure(environ)


@lru_cache(maxsize=256)
def _host_allowed(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    # A fleet uses one or two names; the cache is bounded against clients that vary the header.
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed_hosts)


def _security_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """What SecurityMiddleware (and XFrameOptionsMiddleware, where installed) add to a JSON reply."""
    headers = []
    if settings.SECURE_HSTS_SECONDS and _is_secure(environ):
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    if "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE:
        headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS))
    return headers
