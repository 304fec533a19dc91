"""The agent fast path (collector/node/wsgi.py): which requests it answers, and that its answers
are the Django views' answers."""

import gzip
import importlib
import json
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

from collector.node import wsgi as agent_wsgi
from collector.node.endpoints import NODE_ENDPOINTS
from tests.wsgi_client import WSGIClient

PREFIXES = ("/api/osquery/", "/api/v1/osquery/")


class CountingDjango(WSGIHandler):
    """Django's handler, counting the requests the fast path passed on."""

    calls = 0

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        return super().__call__(environ, start_response)


@pytest.fixture
def counted(enrolled_mac):
    CountingDjango.calls = 0
    enrolled_mac.wsgi.app = agent_wsgi.AgentFastPath(CountingDjango())
    return enrolled_mac


def _post(agent, path: str, body: dict | None = None, **extra) -> tuple[int, dict, Any]:
    raw = json.dumps({"node_key": agent.node_key, **(body or {})}).encode()
    response = agent.wsgi.generic("POST", path, raw, **extra)
    return response.status_code, json.loads(response.content), response


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("slash", ["", "/"])
def test_every_node_endpoint_is_answered_before_django(counted, prefix, slash):
    for name in NODE_ENDPOINTS:
        status, reply, response = _post(counted, f"{prefix}{name}{slash}")
        assert response["Content-Type"] == "application/json"
        assert isinstance(reply, dict) and status < 500, (name, reply)
    for legacy in ("read", "write"):
        _post(counted, f"/api/v1/distributed/{legacy}{slash}")
    assert CountingDjango.calls == 0


@pytest.mark.django_db
def test_everything_else_goes_to_django(counted, vectors):
    assert counted.wsgi.generic("GET", "/api/osquery/config").status_code == 405
    _post(counted, "/api/osquery/carve/block", {"session_id": "x", "block_id": 0, "data": ""})
    _post(counted, "/api/osquery/no/such/endpoint")
    assert counted.enroll(vectors["enroll"]["request_macos"])["node_key"]
    assert CountingDjango.calls == 4


@pytest.mark.django_db
def test_replies_match_the_django_views(enrolled_mac, vectors):
    """The same request through the fast path and through Django's views gets the same body."""
    line = vectors["logger"]["status"]["data"][0]
    requests: list[tuple[str, dict[str, Any]]] = [
        ("config", {}),
        ("distributed/read", {}),
        ("distributed/write", {"queries": {"fleetweb_other_1": []}}),
        ("log", {"log_type": "status", "data": [line]}),
        ("log", {"log_type": "nonsense", "data": []}),
        ("distributed/write", {"queries": "not an object"}),
    ]
    for name, body in requests:
        payload = json.dumps({"node_key": enrolled_mac.node_key, **body})
        fast = enrolled_mac.wsgi.generic("POST", f"/api/osquery/{name}", payload)
        django = enrolled_mac.client.generic("POST", f"/api/osquery/{name}", payload, content_type="application/json")
        assert (fast.status_code, json.loads(fast.content)) == (django.status_code, json.loads(django.content)), name
    wrong_key = json.dumps({"node_key": "not-a-key"})
    fast = enrolled_mac.wsgi.generic("POST", "/api/osquery/config", wrong_key)
    assert json.loads(fast.content) == {"node_invalid": True, "error": "invalid node key"}


@pytest.mark.django_db
def test_gzip_and_the_node_key_header(enrolled_mac, vectors):
    line = vectors["logger"]["status"]["data"][0]
    raw = gzip.compress(json.dumps({"log_type": "status", "data": [line]}).encode())
    response = enrolled_mac.wsgi.generic(
        "POST",
        "/api/osquery/log",
        raw,
        headers={"Content-Encoding": "gzip", "Authorization": f"NodeKey {enrolled_mac.node_key}"},
    )
    assert json.loads(response.content) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["evil.example", ""])
def test_a_host_django_refuses_gets_djangos_json_400(counted, host):
    status, reply, _ = _post(counted, "/api/osquery/config", headers={"Host": host})
    assert status == 400 and "Host header" in reply["error"]
    assert CountingDjango.calls == 1


@pytest.mark.django_db
def test_https_redirect_and_security_headers_follow_the_settings(counted, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    # Django's middleware reads its settings when the handler is built.
    counted.wsgi.app = agent_wsgi.AgentFastPath(CountingDjango())
    plain = counted.wsgi.generic("POST", "/api/osquery/config", json.dumps({"node_key": counted.node_key}))
    assert plain.status_code == 301 and CountingDjango.calls == 1  # Django's redirect, as before
    status, reply, response = _post(counted, "/api/osquery/config", headers={"X-Forwarded-Proto": "https"})
    assert status == 200 and "error" not in reply
    assert response["Strict-Transport-Security"] == "max-age=3600"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert CountingDjango.calls == 1


@pytest.mark.django_db
def test_distributed_read_through_the_fast_path_costs_no_sql(enrolled_mac, django_assert_num_queries):
    enrolled_mac.call("distributed/read")  # vitals, labels and policies are asked first
    enrolled_mac.call("distributed/read")
    with django_assert_num_queries(0):
        assert enrolled_mac.call("distributed/read") == {"queries": {}}


def test_the_setting_turns_the_fast_path_off(settings):
    from fleetweb import wsgi

    try:
        settings.FLEETWEB_AGENT_FAST_PATH = False
        assert isinstance(importlib.reload(wsgi).application, WSGIHandler)
        settings.FLEETWEB_AGENT_FAST_PATH = True
        assert isinstance(importlib.reload(wsgi).application, agent_wsgi.AgentFastPath)
        settings.FLEETWEB_SURFACES = frozenset({"operator"})
        assert isinstance(importlib.reload(wsgi).application, WSGIHandler)
    finally:
        settings.FLEETWEB_SURFACES = frozenset({"agent", "operator"})
        importlib.reload(wsgi)


def test_client_transport_is_the_fast_path():
    assert isinstance(WSGIClient().app, agent_wsgi.AgentFastPath)


@pytest.mark.django_db
def test_a_failure_after_the_reply_is_decided_still_sends_it(enrolled_mac, vectors, monkeypatch):
    def broken(environ):  # type: ignore[no-untyped-def]
        raise RuntimeError("settings unreadable")

    monkeypatch.setattr(agent_wsgi, "_security_headers", broken)
    line = vectors["logger"]["status"]["data"][0]
    response = enrolled_mac.wsgi.generic(
        "POST",
        "/api/osquery/log",
        json.dumps({"node_key": enrolled_mac.node_key, "log_type": "status", "data": [line]}),
    )
    assert response.status_code == 200 and json.loads(response.content) == {}
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_refusals_are_logged_like_djangos(enrolled_mac, caplog):
    with caplog.at_level("WARNING", logger="django.request"):
        enrolled_mac.wsgi.generic("POST", "/api/osquery/config", json.dumps({"node_key": "wrong"}))
    assert "Unauthorized: /api/osquery/config" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_connections_past_their_age_are_closed_before_the_request(enrolled_mac, vectors):
    """The upkeep Django's request_started runs: a kept connection past CONN_MAX_AGE is replaced
    before the request uses it (the database may have dropped it by then)."""
    from django.db import connection

    connection.ensure_connection()
    old = connection.connection
    connection.close_at = 0  # past its CONN_MAX_AGE
    used = []

    def spy(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        used.append(connection.connection)
        return execute(sql, params, many, context)

    line = vectors["logger"]["status"]["data"][0]
    raw = json.dumps({"node_key": enrolled_mac.node_key, "log_type": "status", "data": [line]}).encode()
    environ = WSGIClient().environ("POST", "/api/osquery/log", raw)
    app = agent_wsgi.AgentFastPath(WSGIHandler())  # called directly: the upkeep is under test
    with connection.execute_wrapper(spy):
        body = b"".join(app(environ, lambda *args: None))
    assert json.loads(body) == {}
    assert used and all(c is not old for c in used)
