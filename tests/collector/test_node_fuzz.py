"""Property-based tests of every agent endpoint: random JSON shapes, types, sizes, encodings and
gzip streams, starting from real agent bodies (the protocol vectors) and mutating them.

The invariant for every request: a JSON object reply with `error` (or `node_invalid`) on failure
and without `error` on success, never a 500 and never a traceback, and nothing stored by a
request that was refused. A successful logger POST stores exactly one batch with all its lines.
"""

import gzip
import json
import zlib
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from collector.models import LogBatch
from tests.conftest import AgentClient
from tests.fuzzing import fuzz_settings, hostile_text, json_values

from .conftest import NODE_ENDPOINTS, body_for, stored_counts

PREFIXES = ["/api/osquery/", "/api/v1/osquery/"]
LEGACY = {"distributed/read": "/api/v1/distributed/read", "distributed/write": "/api/v1/distributed/write"}
# Every name an agent body uses, so mutations hit the fields the endpoints read.
AGENT_KEYS = [
    "node_key",
    "enroll_secret",
    "host_identifier",
    "host_details",
    "platform_type",
    "log_type",
    "data",
    "queries",
    "statuses",
    "messages",
    "stats",
    "session_id",
    "block_id",
    "block_count",
    "block_size",
    "carve_size",
    "carve_id",
    "request_id",
]


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    """`valid` with some members dropped, replaced by random JSON, or changed one level down;
    sometimes an entirely random JSON value instead."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values())
    body = json.loads(json.dumps(valid))
    names = sorted(set(body) | set(AGENT_KEYS))
    for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
        action = draw(st.sampled_from(["drop", "replace", "inner", "inner"]))
        value = body.get(name)
        if action == "drop":
            body.pop(name, None)
        elif action == "inner" and isinstance(value, list) and value:
            value[draw(st.integers(0, len(value) - 1))] = draw(json_values(max_leaves=8))
        elif action == "inner" and isinstance(value, dict) and value:
            value[draw(st.sampled_from(sorted(value)))] = draw(json_values(max_leaves=8))
        else:
            body[name] = draw(json_values(max_leaves=10))
    return body


@st.composite
def on_the_wire(draw: st.DrawFn, body: Any) -> tuple[bytes, dict[str, str]]:
    """`body` encoded as an agent, a proxy or an attacker might send it."""
    text = json.dumps(body, ensure_ascii=draw(st.booleans()))
    # Lone surrogates survive as invalid UTF-8 (CESU-8), which a strict parser must refuse.
    raw = text.encode("utf-8", "surrogatepass")
    how = draw(
        st.sampled_from(
            [
                "plain",
                "plain",
                "gzip",
                "gzip",
                "gzip-no-header",
                "gzip-truncated",
                "gzip-concat",
                "deflate",
                "bad-encoding",
                "utf16",
                "bom",
                "garbage",
                "gzip-garbage",
                "trailing",
            ]
        )
    )
    headers: dict[str, str] = {}
    if how == "gzip":
        raw, headers = gzip.compress(raw), {"Content-Encoding": "gzip"}
    elif how == "gzip-no-header":
        raw = gzip.compress(raw)
    elif how == "gzip-truncated":
        packed = gzip.compress(raw)
        raw, headers = packed[: draw(st.integers(0, len(packed) - 1))], {"Content-Encoding": "gzip"}
    elif how == "gzip-concat":
        cut = draw(st.integers(0, len(raw)))
        raw, headers = gzip.compress(raw[:cut]) + gzip.compress(raw[cut:]), {"Content-Encoding": "gzip"}
    elif how == "deflate":
        raw, headers = zlib.compress(raw), {"Content-Encoding": "deflate"}
    elif how == "bad-encoding":
        headers = {"Content-Encoding": draw(st.sampled_from(["br", "zstd", "gzip, gzip", "\x7f"]))}
    elif how == "utf16":
        raw = text.encode("utf-16", "surrogatepass")
    elif how == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif how == "garbage":
        raw = draw(st.binary(max_size=200))
    elif how == "gzip-garbage":
        raw, headers = b"\x1f\x8b" + draw(st.binary(max_size=100)), {"Content-Encoding": "gzip"}
    elif how == "trailing":
        raw += draw(st.sampled_from([b" x", b"}", b"\x00", b",{}"]))
    return raw, headers


def post(client, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = client.generic("POST", path, raw, content_type="application/json", headers=headers)
    assert response["Content-Type"] == "application/json", (response.status_code, response.content[:300])
    assert b"Traceback" not in response.content and b'File "' not in response.content
    reply = json.loads(response.content)
    assert isinstance(reply, dict), reply
    assert response.status_code < 500, (response.status_code, reply)
    return response.status_code, reply


def assert_invariants(status: int, reply: dict[str, Any], before: dict[str, int]) -> None:
    if "error" in reply or reply.get("node_invalid"):
        assert isinstance(reply.get("error"), str) and reply["error"], reply
        assert status >= 400, (status, reply)
        assert stored_counts() == before, "a refused request stored something"
    else:
        assert status == 200, (status, reply)


@pytest.fixture
def carve_session(enrolled_mac: AgentClient, vectors) -> str:
    reply = enrolled_mac.call("carve/begin", body_for("carve/begin", vectors, enrolled_mac))
    return reply["session_id"]


@pytest.mark.django_db
@given(data=st.data())
@fuzz_settings(examples=400)
def test_node_endpoints_survive_hostile_bodies(data, enrolled_mac: AgentClient, carve_session: str, vectors):
    endpoint = data.draw(st.sampled_from([*NODE_ENDPOINTS, "carve/block"]), label="endpoint")
    body = data.draw(mutated(body_for(endpoint, vectors, enrolled_mac, carve_session)), label="body")
    raw, headers = data.draw(on_the_wire(body), label="wire")
    if data.draw(st.booleans(), label="key in header"):
        headers["Authorization"] = data.draw(
            st.sampled_from([f"NodeKey {enrolled_mac.node_key}", "NodeKey ", "Bearer x", "NodeKey \x00"]),
            label="authorization",
        )
    path = LEGACY[endpoint] if endpoint in LEGACY and data.draw(st.booleans()) else None
    path = path or data.draw(st.sampled_from(PREFIXES)) + endpoint
    before = stored_counts()
    batches_before = LogBatch.objects.count()
    status, reply = post(enrolled_mac.wsgi, path, raw, headers)
    event(f"{endpoint}: {status}")  # shown by --hypothesis-show-statistics
    assert_invariants(status, reply, before)
    if endpoint == "log" and "error" not in reply and isinstance(body, dict) and body.get("data"):
        # All or nothing: one batch holding every line of the request.
        batch = LogBatch.objects.order_by("-id").first()
        assert LogBatch.objects.count() == batches_before + 1 and batch is not None
        assert batch.line_count == len(body["data"])


@pytest.mark.django_db
@given(data=st.data())
@fuzz_settings(examples=150)
def test_enroll_survives_hostile_bodies(data, client, enroll_secret, vectors):
    valid = dict(vectors["enroll"]["request_macos"], enroll_secret=enroll_secret.secret)
    body = data.draw(mutated(valid), label="body")
    raw, headers = data.draw(on_the_wire(body), label="wire")
    path = data.draw(st.sampled_from(PREFIXES)) + "enroll"
    if data.draw(st.booleans(), label="secret in query string"):
        path += "?enroll_secret=" + data.draw(st.sampled_from([enroll_secret.secret, "", "%00", "x" * 500]))
    before = stored_counts()
    status, reply = post(client, path, raw, headers)
    event(f"enroll: {status}")
    assert_invariants(status, reply, before)
    if "error" not in reply:
        assert isinstance(reply.get("node_key"), str) and reply["node_key"]


@pytest.mark.django_db
@given(path=hostile_text, method=st.sampled_from(["GET", "PUT", "DELETE", "OPTIONS", "PATCH", "POST"]))
@fuzz_settings(examples=100)
def test_unknown_agent_paths_and_methods_get_json_errors(client, path, method):
    url = "/api/osquery/" + "".join(c for c in path if c.isprintable() and c not in "?#%")
    response = client.generic(method, url, b"{}", content_type="application/json")
    assert response["Content-Type"] == "application/json"
    reply = json.loads(response.content)
    assert response.status_code < 500
    assert "error" in reply or response.status_code == 200


header_text = st.one_of(
    hostile_text,
    st.sampled_from(["", "-1", "abc", " 5", "1e3", "99999999999999999999", "0x10", "gzip", "chunked", "NodeKey"]),
)


@pytest.mark.django_db
@given(
    endpoint=st.sampled_from([*NODE_ENDPOINTS, "enroll", "carve/block"]),
    content_length=header_text,
    content_encoding=header_text,
    transfer_encoding=header_text,
    authorization=header_text,
)
@fuzz_settings(examples=120)
def test_hostile_headers_get_json_replies(
    enrolled_mac: AgentClient, endpoint, content_length, content_encoding, transfer_encoding, authorization
):
    """Whatever the framing and encoding headers say (WSGI passes them through as text), the reply
    is still a JSON object and never a 500."""
    meta = {
        "CONTENT_LENGTH": content_length,
        "HTTP_CONTENT_ENCODING": content_encoding,
        "HTTP_TRANSFER_ENCODING": transfer_encoding,
        "HTTP_AUTHORIZATION": authorization,
    }
    body = json.dumps({"node_key": enrolled_mac.node_key, "log_type": "status", "data": []}).encode()
    before = stored_counts()
    response = enrolled_mac.wsgi.generic(
        "POST", "/api/osquery/" + endpoint, body, content_type="application/json", **meta
    )
    assert response["Content-Type"] == "application/json", response.content[:200]
    reply = json.loads(response.content)
    assert response.status_code < 500, reply
    assert_invariants(response.status_code, reply, before)
