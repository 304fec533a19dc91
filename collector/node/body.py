"""Reading agent request bodies: size caps, gzip, strict JSON objects.

Every failure here becomes an AgentError, which the views turn into a JSON reply with `error`:
the agent ignores HTTP status codes and only reads the body (protocol doc §1.3-1.4).
"""

import zlib
from collections.abc import Mapping
from typing import Any

import orjson

from fleetweb.conf import fleet_setting

_READ_CHUNK = 64 * 1024


class AgentError(Exception):
    """A refusal the agent should see as `{"error": message}`; it keeps its data and retries."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def read_body(meta: Mapping[str, Any], stream: Any) -> bytes:
    """The raw body, refused once it passes AGENT_MAX_BODY_BYTES, without reading it all first.

    `meta` is the WSGI environ (a Django request's META is one) and `stream` what to read from:
    the Django request, or the environ's wsgi.input on the WSGI fast path (collector.node.wsgi).
    """
    limit: int = fleet_setting("AGENT_MAX_BODY_BYTES")
    declared = meta.get("CONTENT_LENGTH") or ""
    if not (declared.isascii() and declared.isdigit()):
        declared = ""  # a length that is not plain digits counts as none
    if declared and int(declared) > limit:
        raise AgentError(f"request body is {declared} bytes; the limit is {limit}", 413)
    if declared:
        remaining: int | None = int(declared)
    elif "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        # A chunked body (not what osquery sends, but what some proxies forward) is read
        # straight from the server's stream, which the WSGI server de-chunks and ends; the
        # running total below is then the only cap, so it is kept tight.
        remaining, stream = None, meta["wsgi.input"]
    else:
        return b""  # no length and not chunked: no body, as Django reads it
    chunks: list[bytes] = []
    size = 0
    while remaining is None or remaining > 0:
        # Never ask for more than was declared: a WSGI input stream need not stop at the end
        # of the body.
        chunk = stream.read(_READ_CHUNK if remaining is None else min(_READ_CHUNK, remaining))
        if not chunk:
            break
        size += len(chunk)
        if remaining is not None:
            remaining -= len(chunk)
        if size > limit:
            raise AgentError(f"request body exceeds the limit of {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """Decompress gzip (or zlib) data, stopping as soon as the output would pass `limit`, so a
    gzip bomb costs at most `limit` bytes of memory. Concatenated gzip members (what `cat a.gz
    b.gz` or some proxies produce) are all decompressed, as gunzip does."""
    out = bytearray()
    pending = data
    try:
        while pending:
            decomp = zlib.decompressobj(wbits=47)  # 32 + 15: auto-detect gzip or zlib headers
            while pending:
                out += decomp.decompress(pending, limit + 1 - len(out))
                if len(out) > limit:
                    raise AgentError(f"decompressed body exceeds the limit of {limit} bytes", 413)
                pending = decomp.unconsumed_tail
                if decomp.eof:
                    break
            if not decomp.eof:
                raise AgentError("gzip body is truncated")
            pending = decomp.unused_data
    except zlib.error as exc:
        raise AgentError(f"body is not valid gzip: {exc}") from exc
    return bytes(out)


def parse_agent_json(meta: Mapping[str, Any], stream: Any) -> dict[str, Any]:
    """The body as a JSON object: read with read_body's limits, gunzipped when compressed."""
    raw = read_body(meta, stream)
    encoding = meta.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    # Agents set Content-Encoding only on compressed logger posts; sniffing the gzip magic as well
    # keeps a proxy that strips the header from breaking intake.
    if encoding in ("gzip", "x-gzip", "deflate") or raw[:2] == b"\x1f\x8b":
        raw = gunzip_bounded(raw, fleet_setting("AGENT_MAX_DECOMPRESSED_BYTES"))
    elif encoding and encoding != "identity":
        raise AgentError(f"unsupported Content-Encoding {encoding!r}", 415)
    if not raw.strip():
        raise AgentError("request body is empty; expected a JSON object")
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AgentError(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise AgentError(f"request body must be a JSON object, not {type(payload).__name__}")
    return payload


def node_key_from(meta: Mapping[str, Any], payload: dict[str, Any]) -> str:
    """The node key from `Authorization: NodeKey <key>` (agents 5.23+) or the body."""
    auth = meta.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "nodekey" and value.strip():
        return value.strip()
    key = payload.get("node_key")
    return key if isinstance(key, str) else ""
