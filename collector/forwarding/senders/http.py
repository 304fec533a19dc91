"""HTTP-based senders: NDJSON (file.d, Vector, Logstash), Splunk HEC and Elasticsearch _bulk."""

import gzip
import ssl
import time
from typing import Any

import httpx
import orjson

from .base import Outgoing, Sender, SendResult, is_retryable_status


class HttpSender(Sender):
    content_type = "application/x-ndjson"

    def __init__(self, destination: Any) -> None:
        super().__init__(destination)
        d = destination
        verify: Any = d.tls_verify
        if d.tls_verify and d.tls_ca_file:
            verify = ssl.create_default_context(cafile=d.tls_ca_file)
        auth: Any = None
        if d.auth == "basic":
            auth = httpx.BasicAuth(d.username, d.secret)
        self.client = httpx.Client(verify=verify, auth=auth, timeout=httpx.Timeout(d.timeout_seconds))

    def close(self) -> None:
        self.client.close()

    def headers(self) -> dict[str, str]:
        d = self.destination
        headers = {"Content-Type": self.content_type, "User-Agent": "fleetweb-collector"}
        headers.update({str(k): str(v) for k, v in (d.headers or {}).items()})
        if d.auth == "bearer":
            headers["Authorization"] = f"Bearer {d.secret}"
        return headers

    def endpoint(self) -> str:
        return str(self.destination.url)

    def encode(self, events: list[Outgoing]) -> bytes:
        return b"".join(e.body + b"\n" for e in events)

    def send_halves(self, events: list[Outgoing]) -> SendResult:
        """The receiver refused the body as too large (413): send each half on its own. A single
        event that is still too large fails permanently and becomes a dead letter."""
        middle = len(events) // 2
        first, second = self.send(events[:middle]), self.send(events[middle:])
        return SendResult(
            delivered=first.delivered + second.delivered,
            retry=first.retry | second.retry,
            failed=first.failed | second.failed,
        )

    def post(self, events: list[Outgoing]) -> httpx.Response | SendResult:
        """The response, or a SendResult when the request itself failed."""
        body = self.encode(events)
        headers = self.headers()
        if self.destination.gzip:
            body = gzip.compress(body, 5)
            headers["Content-Encoding"] = "gzip"
        try:
            return self.client.post(self.endpoint(), content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult.all_retry(events, f"{type(exc).__name__}: {exc}")

    def send(self, events: list[Outgoing]) -> SendResult:
        response = self.post(events)
        if isinstance(response, SendResult):
            return response
        if response.status_code == 413 and len(events) > 1:
            return self.send_halves(events)
        if 200 <= response.status_code < 300:
            return SendResult.all_delivered(events)
        error = f"HTTP {response.status_code}: {response.text[:300]}"
        if is_retryable_status(response.status_code):
            return SendResult.all_retry(events, error)
        return SendResult.all_failed(events, error)


# HEC codes that blame one event of the request (invalid format, event field missing or blank).
HEC_EVENT_ERRORS = (6, 12, 13)


class SplunkHecSender(HttpSender):
    """Envelopes on /services/collector/event, concatenated without separators (HEC's batch format)."""

    content_type = "application/json"

    def headers(self) -> dict[str, str]:
        headers = super().headers()
        headers["Authorization"] = f"Splunk {self.destination.secret}"
        return headers

    def endpoint(self) -> str:
        url = str(self.destination.url).rstrip("/")
        return url if "/services/collector" in url else url + "/services/collector/event"

    def encode(self, events: list[Outgoing]) -> bytes:
        d = self.destination
        parts = []
        for e in events:
            envelope: dict[str, Any] = {
                "time": round(e.event_time, 3),
                "host": e.hostname or "unknown",
                "source": d.hec_source.format(log_type=e.log_type),
                "sourcetype": d.hec_sourcetype.format(log_type=e.log_type),
                "fields": {"event_id": e.event_id},
            }
            if d.hec_index:
                envelope["index"] = d.hec_index
            # The event body is already JSON: splice it in rather than parse and re-encode it.
            head = orjson.dumps(envelope)[:-1]
            parts.append(head + b',"event":' + e.body + b"}")
        return b"".join(parts)

    def send(self, events: list[Outgoing]) -> SendResult:
        response = self.post(events)
        if isinstance(response, SendResult):
            return response
        if response.status_code == 413 and len(events) > 1:
            return self.send_halves(events)
        try:
            reply = response.json()
        except ValueError:
            reply = {}
        code = reply.get("code") if isinstance(reply, dict) else None
        if response.status_code == 200 and code in (0, None):
            return SendResult.all_delivered(events)
        if response.status_code == 400 and code in HEC_EVENT_ERRORS and len(events) > 1:
            # One malformed event refuses the whole request: find it by halving, so the others
            # are delivered and only it becomes a dead letter.
            return self.send_halves(events)
        error = f"HEC HTTP {response.status_code} code {code}: {str(reply.get('text', response.text))[:300]}"
        # Code 9 is "server is busy" (HEC answers 503): back off and retry.
        if is_retryable_status(response.status_code) or code == 9:
            return SendResult.all_retry(events, error)
        return SendResult.all_failed(events, error)


class ElasticsearchSender(HttpSender):
    """_bulk with `create` and the event id as `_id`: a retried document that was already indexed
    comes back as 409 and counts as delivered, so retries never duplicate."""

    def endpoint(self) -> str:
        url = str(self.destination.url).rstrip("/")
        return url if url.endswith("/_bulk") else url + "/_bulk"

    def index_for(self, event: Outgoing) -> str:
        pattern = self.destination.es_index.format(log_type=event.log_type)
        return time.strftime(pattern, time.gmtime(event.event_time))

    def encode(self, events: list[Outgoing]) -> bytes:
        lines = []
        for e in events:
            lines.append(orjson.dumps({"create": {"_index": self.index_for(e), "_id": e.event_id}}))
            lines.append(e.body)
        return b"\n".join(lines) + b"\n"

    def send(self, events: list[Outgoing]) -> SendResult:
        response = self.post(events)
        if isinstance(response, SendResult):
            return response
        if response.status_code == 413 and len(events) > 1:
            return self.send_halves(events)
        if response.status_code != 200:
            error = f"HTTP {response.status_code}: {response.text[:300]}"
            if is_retryable_status(response.status_code):
                return SendResult.all_retry(events, error)
            return SendResult.all_failed(events, error)
        try:
            reply = response.json()
            items = reply["items"]
        except (ValueError, KeyError, TypeError):
            return SendResult.all_retry(events, f"unreadable _bulk reply: {response.text[:300]}")
        if not reply.get("errors"):
            return SendResult.all_delivered(events)
        if not isinstance(items, list) or len(items) != len(events):
            return SendResult.all_retry(events, "_bulk reply items do not match the request")
        result = SendResult()
        for event, item in zip(events, items, strict=True):
            outcome = next(iter(item.values())) if isinstance(item, dict) and item else {}
            status = int(outcome.get("status", 500))
            if 200 <= status < 300 or status == 409:
                result.delivered.append(event.id)
                continue
            error = f"item status {status}: {str(outcome.get('error', ''))[:300]}"
            if is_retryable_status(status):
                result.retry[event.id] = error
            else:
                result.failed[event.id] = error
        return result
