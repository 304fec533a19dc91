"""Requests through fleetweb's production WSGI entry point, in the test process.

Agents reach the server through `fleetweb.wsgi.application`: the agent fast path
(collector/node/wsgi.py) in front of Django. django.test.Client skips that layer, so agent tests
go through `WSGIClient`, which answers like the test client's responses (status_code, content,
headers by name) and keeps the test's database transaction open the same way the test client
does.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import RequestFactory
from django.utils.datastructures import CaseInsensitiveMapping

from collector.node import wsgi as agent_wsgi


class WSGIResponse:
    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = CaseInsensitiveMapping(dict(headers))
        self.content = content

    def __getitem__(self, name: str) -> str:
        return str(self.headers[name])

    def __contains__(self, name: str) -> bool:
        return name in self.headers


_depth = [0]


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """As django.test.Client does: the request must not close the connection that holds the
    test's transaction. Reentrant, since a test may send a request from inside another."""
    _depth[0] += 1
    if _depth[0] == 1:
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        agent_wsgi.close_old_connections = _no_upkeep
    try:
        yield
    finally:
        _depth[0] -= 1
        if _depth[0] == 0:
            agent_wsgi.close_old_connections = close_old_connections
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


def _no_upkeep(**kwargs: Any) -> None:
    pass


class WSGIClient:
    def __init__(self) -> None:
        self.app = agent_wsgi.AgentFastPath(WSGIHandler())
        self.factory = RequestFactory()

    def environ(
        self,
        method: str,
        path: str,
        data: bytes | str = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """The WSGI environ a server would pass for this request."""
        body = data.encode() if isinstance(data, str) else data
        environ = self.factory.generic(method, path, body, content_type=content_type, headers=headers).environ
        # A plain stream, as a WSGI server passes it (the factory's refuses reads past the end).
        environ["wsgi.input"] = io.BytesIO(body)
        environ.update(extra)
        return environ

    def generic(self, *args: Any, **kwargs: Any) -> WSGIResponse:
        """Send the request `environ(*args, **kwargs)` describes through the application."""
        environ = self.environ(*args, **kwargs)
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured.update(status=status, headers=response_headers)

        with _test_connection_kept():
            result = self.app(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        return WSGIResponse(captured["status"], captured["headers"], content)
