import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from fleetweb.redis import get_redis
from hosts.models import EnrollSecret
from tests.wsgi_client import WSGIClient

REPO = Path(__file__).resolve().parent.parent
# The shared reference material sits beside the checkout (see README, "Tests"); FLEETWEB_SHARED
# points elsewhere.
SHARED = Path(os.environ.get("FLEETWEB_SHARED", REPO.parent / "shared"))
VECTORS_PATH = SHARED / "docs" / "osquery-vectors.json"
REALWORLD = SHARED / "realworld"


@pytest.fixture(autouse=True)
def _clean_redis():
    """Every test starts with an empty Redis database (a dedicated DB number in tests)."""
    redis = get_redis()
    redis.flushdb()
    yield
    redis.flushdb()


@cache
def vectors_data() -> dict[str, Any]:
    return json.loads(VECTORS_PATH.read_text())


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return vectors_data()


@pytest.fixture
def enroll_secret(db) -> EnrollSecret:
    return EnrollSecret.objects.create(name="default", secret="acme-osquery-enroll-7Gq2Zp")


class AgentClient:
    """Speaks osquery's TLS API the way the agent does: POST JSON, read the JSON reply.

    Requests go through the production WSGI entry point (tests/wsgi_client.py), as an agent's
    do; `client` is the Django test client, for tests that call the Django views directly.
    """

    def __init__(self, client: Client, prefix: str = "/api/osquery") -> None:
        self.client = client
        self.wsgi = WSGIClient()
        self.prefix = prefix
        self.node_key = ""

    def post(
        self,
        endpoint: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict | None = None,
        use_header: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        data = raw if raw is not None else json.dumps(body).encode()
        extra = dict(headers or {})
        if use_header and self.node_key:
            extra["Authorization"] = f"NodeKey {self.node_key}"
        response = self.wsgi.generic(
            "POST", f"{self.prefix}/{endpoint}", data, content_type="application/json", headers=extra
        )
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        assert response.content, "agent replies must never be empty"
        reply = json.loads(response.content)
        assert isinstance(reply, dict)
        return response.status_code, reply

    def enroll(self, request: dict[str, Any]) -> dict[str, Any]:
        _, reply = self.post("enroll", request)
        if "node_key" in reply:
            self.node_key = reply["node_key"]
        return reply

    def call(self, endpoint: str, body: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        payload = {"node_key": self.node_key, **(body or {})}
        return self.post(endpoint, payload, **kwargs)[1]


@pytest.fixture
def agent(client: Client) -> AgentClient:
    return AgentClient(client)


@pytest.fixture
def enrolled_mac(db, agent: AgentClient, enroll_secret: EnrollSecret, vectors) -> AgentClient:
    reply = agent.enroll(vectors["enroll"]["request_macos"])
    assert "node_key" in reply, reply
    return agent
