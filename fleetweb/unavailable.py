"""A clear reply instead of a 500 when MariaDB or Redis is unreachable.

Agent endpoints handle this themselves (collector/node/views.py). For the UI, the admin and the
REST API, an outage of a dependency surfaces as an exception from wherever the request first
touched it (often the session lookup). This middleware turns those exceptions into a 503 page
that says what is down, with Retry-After; programming errors still become 500s.
"""

import logging
from collections.abc import Callable

import orjson
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def dependency_down(exc: BaseException) -> str | None:
    """Which dependency `exc` says is unreachable, or None for any other error."""
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | BrokerError):
        return "redis"
    return None


class DependencyDownMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        which = dependency_down(exception)
        if which is None:
            return None
        # The details (host, port, driver message) go to the log only.
        log.error("%s unavailable while serving %s: %s", which, request.path, type(exception).__name__)
        message = f"fleetweb cannot reach its {which}; agents keep their data and retry. Try again shortly."
        if request.path.startswith("/api/"):
            response = HttpResponse(orjson.dumps({"error": message}), status=503, content_type="application/json")
        else:
            # Rendered without the request: context processors would touch the session and
            # the database that just failed.
            html = render_to_string("unavailable.html", {"which": which, "retry_after": RETRY_AFTER_SECONDS})
            response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
