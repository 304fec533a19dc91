"""RFC 5424 syslog over UDP (RFC 5426), TCP with octet counting (RFC 6587) and TLS (RFC 5425).

Syslog has no application-level acknowledgement: an event counts as delivered once the whole
batch was written without a socket error. After any error the batch is retried on a new
connection; the event_id in the structured data lets the receiver drop the duplicates.
"""

import socket
import ssl
import time
from typing import Any

from .base import Outgoing, Sender, SendResult

SD_ID = "fleetweb@32473"
# The largest UDP payload over IPv4; a bigger datagram cannot be sent at all.
UDP_MAX_PAYLOAD = 65507
# osquery status severities (0 INFO .. 3 FATAL) to syslog severities.
_STATUS_TO_SYSLOG = {0: 6, 1: 4, 2: 3, 3: 2}


def _printable(value: str, limit: int) -> str:
    cleaned = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return cleaned or "-"


def _sd_value(value: str) -> str:
    # RFC 5424 escapes only `"`, `\` and `]`. Control characters (a query name is agent input)
    # would let a value fake a new line to receivers that split on line breaks: replace them.
    value = "".join("\ufffd" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in value)
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def format_message(event: Outgoing, *, app_name: str, facility: int) -> bytes:
    severity = _STATUS_TO_SYSLOG.get(event.severity or 0, 6) if event.log_type == "status" else 6
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event.event_time))
    millis = int((event.event_time % 1) * 1000)
    params = f'event_id="{_sd_value(event.event_id)}" log_type="{_sd_value(event.log_type)}"'
    if event.query_name:
        params += f' name="{_sd_value(event.query_name)}"'
    header = (
        f"<{facility * 8 + severity}>1 {stamp}.{millis:03d}Z {_printable(event.hostname, 255)} "
        f"{_printable(app_name, 48)} - {_printable(event.log_type, 32)} [{SD_ID} {params}] "
    )
    return header.encode() + event.body


class SyslogSender(Sender):
    def _connect(self) -> socket.socket:
        d = self.destination
        address = (d.syslog_host, int(d.syslog_port or 514))
        if d.syslog_transport == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect(address)
            return sock
        sock = socket.create_connection(address, timeout=d.timeout_seconds)
        if d.syslog_transport == "tls":
            context = ssl.create_default_context(cafile=d.tls_ca_file or None)
            if not d.tls_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            try:
                return context.wrap_socket(sock, server_hostname=d.syslog_host)
            except OSError:
                sock.close()
                raise
        return sock

    def send(self, events: list[Outgoing]) -> SendResult:
        d = self.destination
        result = SendResult()
        frames: list[tuple[Outgoing, bytes]] = []
        limit = d.syslog_max_message_bytes
        if d.syslog_transport == "udp":
            limit = min(limit, UDP_MAX_PAYLOAD)
        for event in events:
            message = format_message(event, app_name=d.syslog_app_name, facility=d.syslog_facility)
            if len(message) > limit:
                # A receiver drops an oversize frame and closes the connection, losing the rest
                # of the batch: refuse it here, visibly, instead.
                result.failed[event.id] = f"message is {len(message)} bytes; the limit is {limit}"
                continue
            frames.append((event, message))
        if not frames:
            return result
        try:
            sock = self._connect()
        except OSError as exc:
            result.retry.update({e.id: f"connect failed: {exc}" for e, _ in frames})
            return result
        try:
            if d.syslog_transport == "udp":
                for _, message in frames:
                    sock.send(message)
            else:
                sock.sendall(b"".join(b"%d %s" % (len(m), m) for _, m in frames))
                sock = _close_gracefully(sock)
        except OSError as exc:
            result.retry.update({e.id: f"send failed: {exc}" for e, _ in frames})
            return result
        finally:
            sock.close()
        result.delivered.extend(e.id for e, _ in frames)
        return result


def _close_gracefully(sock: Any) -> Any:
    """Send TLS close_notify / TCP FIN so the receiver reads everything before the close; returns
    the socket left to close."""
    if isinstance(sock, ssl.SSLSocket):
        sock.unwrap()  # the same socket object carries on as plain TCP
    sock.shutdown(socket.SHUT_WR)
    return sock
