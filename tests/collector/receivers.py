"""Loopback receivers that enforce each SIEM protocol's contract strictly (no real Splunk,
Elasticsearch or file.d can run here). Anything off-contract is refused the way the real
server refuses it, so a sender bug shows up as a failed test, not as a silently accepted event.

Contracts (see ../shared/docs/siem-forwarding.md §3):
- ndjson: POST, Content-Type application/x-ndjson or application/json, body of JSON objects each
  terminated by "\\n"; 2xx on success.
- hec: POST /services/collector/event, `Authorization: Splunk <token>`, body of concatenated
  envelopes (no array, no separator needed), each with a non-empty `event`, numeric `time`,
  string host/source/sourcetype, an allowed `index`; reply {"text":"Success","code":0}.
- bulk: POST /_bulk, application/x-ndjson, action/document pairs, final newline required; `create`
  of an existing _id is a 409 item; reply with per-item statuses and `errors`.
Common: auth header, gzip (Content-Encoding), a body size limit (413), scripted replies
(e.g. 503, 429) and a stall switch that holds requests until released.
"""

import gzip
import json
import socket
import ssl
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PORT_RANGE = range(20200, 20300)


def pick_port(kind: int = socket.SOCK_STREAM) -> int:
    """A free loopback port in this test suite's range."""
    for port in PORT_RANGE:
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20200-20299")


class ContractError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


class Receiver:
    def __init__(self, mode: str, *, auth: str | None = None, max_bytes: int = 5 * 1024 * 1024, indexes=None, tls=None):
        assert mode in ("ndjson", "hec", "bulk")
        self.mode = mode
        self.auth = auth
        self.max_bytes = max_bytes
        self.indexes = set(indexes) if indexes else None
        self.events: list[dict[str, Any]] = []  # documents accepted, in order
        self.requests = 0
        self.refused: list[tuple[int, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.scripted: list[int] = []  # statuses to answer with, before looking at the body
        self.down = False
        self.fail_items: dict[str, int] = {}  # bulk: _id -> status to give once
        self.stall = threading.Event()  # set = requests proceed
        self.stall.set()
        self.bulk_ids: set[str] = set()
        self.bulk_attempts: Counter[str] = Counter()  # how often each _id was sent
        self.lock = threading.Lock()
        self.port = pick_port()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                receiver._handle(self)

            def do_GET(self) -> None:
                self._reply(405, {"error": "POST only"})

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.stall.set()
        self.server.shutdown()
        self.server.server_close()

    def event_ids(self) -> list[str]:
        return [self._event_id(e) for e in self.events]

    def _event_id(self, doc: dict[str, Any]) -> str:
        if self.mode == "hec":
            return doc["fields"]["event_id"]
        return doc["event_id"]

    def duplicates(self) -> Counter[str]:
        return Counter({k: n for k, n in Counter(self.event_ids()).items() if n > 1})

    # -- request handling ------------------------------------------------------------------------

    def _handle(self, handler: Any) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        with self.lock:
            self.requests += 1
            self.headers_seen.append(dict(handler.headers.items()))
        # Held requests: the client sees a stalled receiver (and times out).
        self.stall.wait(timeout=60)
        try:
            with self.lock:
                if self.down:
                    raise ContractError(503, {"text": "Server is busy", "code": 9})
                if self.scripted:
                    status = self.scripted.pop(0)
                    raise ContractError(status, {"text": "scripted", "code": 9 if status == 503 else 0})
            self._check_auth(handler)
            body = self._body(handler, raw)
            reply = getattr(self, f"_accept_{self.mode}")(handler, body)
            handler._reply(200, reply)
        except ContractError as exc:
            with self.lock:
                self.refused.append((exc.status, exc.body))
            handler._reply(exc.status, exc.body)

    def _check_auth(self, handler: Any) -> None:
        if self.auth is not None and handler.headers.get("Authorization") != self.auth:
            raise ContractError(401, {"text": "Invalid authorization", "code": 3})

    def _body(self, handler: Any, raw: bytes) -> bytes:
        if len(raw) > self.max_bytes:
            raise ContractError(413, {"text": "Content too large", "code": 27})
        encoding = (handler.headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as exc:
                raise ContractError(400, {"text": f"bad gzip: {exc}", "code": 6}) from exc
        elif encoding:
            raise ContractError(415, {"text": f"unsupported encoding {encoding}"})
        if not raw:
            raise ContractError(400, {"text": "No data", "code": 5})
        return raw

    def _accept_ndjson(self, handler: Any, body: bytes) -> dict[str, Any]:
        ctype = (handler.headers.get("Content-Type") or "").split(";")[0]
        if ctype not in ("application/x-ndjson", "application/json"):
            raise ContractError(415, {"error": f"content type {ctype!r}"})
        if not body.endswith(b"\n"):
            raise ContractError(400, {"error": "every NDJSON line must end with a newline"})
        docs = []
        for number, line in enumerate(body[:-1].split(b"\n")):
            try:
                doc = json.loads(line)
            except ValueError as exc:
                raise ContractError(400, {"error": f"line {number} is not JSON: {exc}"}) from exc
            if not isinstance(doc, dict) or "event_id" not in doc:
                raise ContractError(400, {"error": f"line {number} is not an event object"})
            docs.append(doc)
        with self.lock:
            self.events.extend(docs)
        return {"accepted": len(docs)}

    def _accept_hec(self, handler: Any, body: bytes) -> dict[str, Any]:
        if handler.path.split("?")[0] != "/services/collector/event":
            raise ContractError(404, {"text": "The requested URL was not found on this server.", "code": 404})
        text = body.decode()
        decoder = json.JSONDecoder()
        position = 0
        envelopes: list[dict[str, Any]] = []
        while position < len(text):
            while position < len(text) and text[position] in " \t\r\n":
                position += 1
            if position >= len(text):
                break
            try:
                envelope, position = decoder.raw_decode(text, position)
            except ValueError as exc:
                raise ContractError(
                    400, {"text": "Invalid data format", "code": 6, "invalid-event-number": len(envelopes)}
                ) from exc
            number = len(envelopes)
            if not isinstance(envelope, dict):
                raise ContractError(400, {"text": "Invalid data format", "code": 6, "invalid-event-number": number})
            if "event" not in envelope:
                raise ContractError(
                    400, {"text": "Event field is required", "code": 12, "invalid-event-number": number}
                )
            if envelope["event"] in ("", None, {}):
                raise ContractError(
                    400, {"text": "Event field cannot be blank", "code": 13, "invalid-event-number": number}
                )
            if "time" in envelope and not isinstance(envelope["time"], int | float):
                raise ContractError(400, {"text": "Invalid data format", "code": 6, "invalid-event-number": number})
            for key in ("host", "source", "sourcetype", "index"):
                if key in envelope and not isinstance(envelope[key], str):
                    raise ContractError(400, {"text": "Invalid data format", "code": 6, "invalid-event-number": number})
            if self.indexes is not None and envelope.get("index") not in self.indexes:
                raise ContractError(400, {"text": "Incorrect index", "code": 7, "invalid-event-number": number})
            envelopes.append(envelope)
        with self.lock:
            self.events.extend(envelopes)
        return {"text": "Success", "code": 0}

    def _accept_bulk(self, handler: Any, body: bytes) -> dict[str, Any]:
        if handler.path.split("?")[0] != "/_bulk":
            raise ContractError(404, {"error": "no handler"})
        ctype = (handler.headers.get("Content-Type") or "").split(";")[0]
        if ctype != "application/x-ndjson":
            raise ContractError(406, {"error": f"Content-Type header [{ctype}] is not supported", "status": 406})
        if not body.endswith(b"\n"):
            raise ContractError(400, {"error": "The bulk request must be terminated by a newline [\\n]", "status": 400})
        lines = body[:-1].split(b"\n")
        if len(lines) % 2:
            raise ContractError(400, {"error": "action without a document", "status": 400})
        items, errors = [], False
        accepted = []
        for index in range(0, len(lines), 2):
            try:
                action = json.loads(lines[index])
                doc = json.loads(lines[index + 1])
            except ValueError as exc:
                raise ContractError(400, {"error": f"malformed line: {exc}", "status": 400}) from exc
            if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in ("index", "create"):
                raise ContractError(400, {"error": f"bad action line {lines[index][:100]!r}", "status": 400})
            op, meta = next(iter(action.items()))
            if not meta.get("_index") or not isinstance(doc, dict):
                raise ContractError(400, {"error": "_index and an object document are required", "status": 400})
            doc_id = meta.get("_id")
            status = 201
            with self.lock:
                self.bulk_attempts[doc_id] += 1
                scripted = self.fail_items.pop(doc_id, None) if doc_id else None
                if scripted:
                    status = scripted
                elif op == "create" and doc_id in self.bulk_ids:
                    status = 409
                else:
                    if doc_id:
                        self.bulk_ids.add(doc_id)
                    accepted.append(dict(doc, _index=meta["_index"], _id=doc_id))
            item: dict[str, Any] = {"_index": meta["_index"], "_id": doc_id, "status": status}
            if status >= 300:
                errors = True
                item["error"] = {
                    "type": "es_rejected_execution_exception" if status == 429 else "version_conflict_engine_exception"
                }
            items.append({op: item})
        with self.lock:
            self.events.extend(accepted)
        return {"took": 1, "errors": errors, "items": items}
