"""Bad input on every agent endpoint: a JSON error reply, nothing stored, never a 500."""

import gzip
import io
import json
import zlib

import pytest

from .conftest import ENDPOINTS, body_for, gz, stored_counts

ALL_PATHS = (
    [f"/api/osquery/{e}" for e in ENDPOINTS]
    + [f"/api/v1/osquery/{e}" for e in ENDPOINTS]
    + ["/api/v1/distributed/read", "/api/v1/distributed/write"]
)


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-compressed (about 1 MB on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(1024)]
    parts.append(compressor.flush())
    return b"".join(parts)


class EndlessBody(io.RawIOBase):
    """A request stream that would yield `size` bytes, counting what the server reads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.served if n is None or n < 0 else min(n, self.size - self.served)
        self.served += n
        return b"{" * n


def _post(client, path: str, raw: bytes, headers: dict | None = None, **extra):
    response = client.generic("POST", path, raw, content_type="application/json", headers=headers or {}, **extra)
    return response


def _assert_json_error(response, *statuses: int) -> dict:
    assert response["Content-Type"].startswith("application/json")
    reply = json.loads(response.content)
    assert isinstance(reply, dict) and isinstance(reply.get("error"), str) and reply["error"], reply
    assert response.status_code in statuses, (response.status_code, reply)
    assert response.status_code < 500
    return reply


BAD_BODIES = {
    "empty": (b"", {}, "request body is empty"),
    "whitespace": (b"  \n", {}, "request body is empty"),
    "not json": (b"node_key=abc", {}, "request body is not valid JSON"),
    "html": (b"<html></html>", {}, "request body is not valid JSON"),
    "json array": (b'[{"node_key": "x"}]', {}, "request body must be a JSON object, not list"),
    "json string": (b'"hello"', {}, "request body must be a JSON object, not str"),
    "json null": (b"null", {}, "request body must be a JSON object, not NoneType"),
    "invalid utf-8": (b'{"node_key": "\xff\xfe"}', {}, "request body is not valid JSON"),
    "truncated gzip": (gzip.compress(b'{"node_key": "abc"}')[:-6], {"Content-Encoding": "gzip"}, "gzip body is"),
    "gzip header but not gzip": (b"plain text", {"Content-Encoding": "gzip"}, "body is not valid gzip"),
    "gzip of an array": (gzip.compress(b"[1, 2]"), {"Content-Encoding": "gzip"}, "request body must be a JSON object"),
    "unknown encoding": (b"{}", {"Content-Encoding": "br"}, "unsupported Content-Encoding 'br'"),
}


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_malformed_body(enrolled_mac, path, case):
    raw, headers, message = BAD_BODIES[case]
    before = stored_counts()

    reply = _assert_json_error(_post(enrolled_mac.client, path, raw, headers), 400, 415)

    assert reply["error"].startswith(message), reply
    assert stored_counts() == before


@pytest.mark.parametrize("path", ALL_PATHS)
def test_gzip_bomb_is_refused(enrolled_mac, gzip_bomb, path, settings):
    before = stored_counts()

    response = _post(enrolled_mac.client, path, gzip_bomb, {"Content-Encoding": "gzip"})

    reply = _assert_json_error(response, 413)
    limit = settings.FLEET["AGENT_MAX_DECOMPRESSED_BYTES"]
    assert reply["error"] == f"decompressed body exceeds the limit of {limit} bytes"
    assert len(gzip_bomb) < settings.FLEET["AGENT_MAX_BODY_BYTES"]  # it passed the raw cap
    assert stored_counts() == before


@pytest.mark.parametrize("path", ALL_PATHS)
def test_100_mb_body_is_refused_without_reading_it(enrolled_mac, path, settings):
    size = 100 * 1024 * 1024
    stream = EndlessBody(size)
    before = stored_counts()

    response = _post(enrolled_mac.client, path, b"", **{"wsgi.input": stream, "CONTENT_LENGTH": str(size)})

    reply = _assert_json_error(response, 413)
    assert reply["error"] == f"request body is {size} bytes; the limit is {settings.FLEET['AGENT_MAX_BODY_BYTES']}"
    assert stream.served == 0
    assert stored_counts() == before


def test_body_over_the_raw_limit_is_cut_off_while_reading(enrolled_mac, settings):
    settings.FLEET = {**settings.FLEET, "AGENT_MAX_BODY_BYTES": 1024 * 1024}
    body = json.dumps({"node_key": enrolled_mac.node_key, "log_type": "status", "data": [{"m": "x" * 2_000_000}]})

    reply = _assert_json_error(_post(enrolled_mac.client, "/api/osquery/log", body.encode()), 413)

    assert "the limit is 1048576" in reply["error"]


def test_decompressed_limit_applies_to_honest_bodies_too(enrolled_mac, settings):
    settings.FLEET = {**settings.FLEET, "AGENT_MAX_DECOMPRESSED_BYTES": 1000}
    body = {"node_key": enrolled_mac.node_key, "log_type": "status", "data": [{"m": "x" * 2000}]}

    response = _post(enrolled_mac.client, "/api/osquery/log", gz(body), {"Content-Encoding": "gzip"})

    assert _assert_json_error(response, 413)["error"] == "decompressed body exceeds the limit of 1000 bytes"


# Well-formed JSON objects with the wrong types, per endpoint: (endpoint, changes, error prefix).
WRONG_TYPES = [
    ("enroll", {"host_details": "macOS"}, "host_details must be an object"),
    ("enroll", {"enroll_secret": 12345}, "enroll_secret and host_identifier must be strings"),
    ("enroll", {"host_identifier": ["a"]}, "enroll_secret and host_identifier must be strings"),
    ("log", {"data": "not a list"}, "data must be a list of log objects, got str"),
    ("log", {"data": {"a": 1}}, "data must be a list of log objects, got dict"),
    ("log", {"data": ["a line as a string"]}, "data[0] must be a JSON object, got str"),
    ("log", {"log_type": "snapshot"}, "log_type must be 'result' or 'status', got 'snapshot'"),
    ("log", {"log_type": None}, "log_type must be 'result' or 'status', got None"),
    ("distributed/write", {"queries": ["SELECT 1"]}, "'queries' must be an object keyed by query id, not list"),
    ("distributed/write", {"statuses": [0]}, "'statuses' must be an object keyed by query id, not list"),
    ("distributed/write", {"messages": "oops"}, "'messages' must be an object keyed by query id, not str"),
    ("distributed/write", {"queries": {"q": "rows"}}, "queries.q must be a list of row objects"),
    ("distributed/write", {"queries": {"q": [["a"]]}}, "queries.q must be a list of row objects"),
    ("carve/begin", {"block_size": "8192"}, "block_size must be a non-negative integer"),
]


@pytest.mark.parametrize(("endpoint", "changes", "message"), WRONG_TYPES)
def test_wrong_types(enrolled_mac, vectors, endpoint, changes, message):
    body = dict(body_for(endpoint, vectors, enrolled_mac), **changes)
    before = stored_counts()

    status, reply = enrolled_mac.post(endpoint, body)

    assert reply["error"].startswith(message), reply
    assert "node_key" not in reply
    assert status == 400
    assert stored_counts() == before


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_get_a_json_error(client, path, method):
    response = client.generic(method, path)

    reply = _assert_json_error(response, 405)
    assert reply["error"] == f"{method} is not allowed; osquery agents POST JSON here"


@pytest.mark.parametrize(
    "path",
    [
        "/api/osquery/",
        "/api/osquery/nope",
        "/api/osquery/distributed",
        "/api/osquery/carve/blocks",
        "/api/v1/osquery/logs",
        "/api/v1/distributed/",
        "/api/v1/distributed/readx",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_paths_get_a_json_error(client, path, method):
    response = client.generic(method, path, b"{}", content_type="application/json")

    reply = _assert_json_error(response, 404)
    assert reply["error"] == f"unknown agent endpoint {path!r}"


def test_trailing_slash_is_the_same_endpoint(enrolled_mac):
    status, reply = enrolled_mac.post("config/", {"node_key": enrolled_mac.node_key})

    assert status == 200 and "options" in reply


def test_chunked_100_mb_body_is_cut_off_at_the_limit(enrolled_mac, settings):
    stream = EndlessBody(100 * 1024 * 1024)
    limit = settings.FLEET["AGENT_MAX_BODY_BYTES"]

    response = _post(
        enrolled_mac.client, "/api/osquery/log", b"", **{"wsgi.input": stream, "HTTP_TRANSFER_ENCODING": "chunked"}
    )

    reply = _assert_json_error(response, 413)
    assert reply["error"] == f"request body exceeds the limit of {limit} bytes"
    assert stream.served <= limit + 64 * 1024
