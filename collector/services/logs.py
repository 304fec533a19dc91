"""Log intake: store a logger POST durably, then hand it to the forwarding pipeline."""

import zlib
from typing import Any

import orjson
from django.db import transaction

from fleetweb.conf import fleet_setting
from hosts.node_cache import NodeHost

from ..models import LogBatch

LOG_TYPES = ("result", "status")


class LogRejected(ValueError):
    pass


def validate_log_payload(payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    log_type = payload.get("log_type")
    if log_type not in LOG_TYPES:
        raise LogRejected(f"log_type must be 'result' or 'status', got {log_type!r}")
    data = payload.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise LogRejected(f"data must be a list of log objects, got {type(data).__name__}")
    limit: int = fleet_setting("LOG_MAX_LINES")
    if len(data) > limit:
        # The agent keeps the lines and retries; a smaller --logger_tls_max_lines gets them in.
        raise LogRejected(f"{len(data)} lines in one request; the limit is {limit}")
    for index, line in enumerate(data):
        if not isinstance(line, dict):
            raise LogRejected(f"data[{index}] must be a JSON object, got {type(line).__name__}")
    return log_type, data


def log_batch_store(*, node: NodeHost, log_type: str, lines: list[dict[str, Any]]) -> LogBatch | None:
    """Store the lines in one INSERT and return the batch (None for an empty batch).

    The caller may acknowledge the agent only after this returns: the row is committed by then.
    """
    if not lines:
        return None
    with transaction.atomic():
        batch = LogBatch.objects.create(
            host_id=node.id,
            host_identifier=node.host_identifier[:255],
            log_type=log_type,
            line_count=len(lines),
            payload=zlib.compress(orjson.dumps(lines), 6),
        )
        transaction.on_commit(lambda: _dispatch(batch.pk))
    return batch


def log_batch_lines(batch: LogBatch) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = orjson.loads(zlib.decompress(bytes(batch.payload)))
    return lines


# Set by the collector's forwarding pipeline; intake works (and keeps everything) without it.
_on_stored: list[Any] = []


def on_batch_stored(callback: Any) -> Any:
    _on_stored.append(callback)
    return callback


def _dispatch(batch_id: int) -> None:
    for callback in _on_stored:
        callback(batch_id)
