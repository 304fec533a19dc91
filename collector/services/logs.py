"""Log intake: store a logger POST durably, then hand it to the forwarding pipeline."""

import time
import zlib
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from fleetweb.conf import fleet_setting
from fleetweb.redis import get_redis
from hosts.node_cache import NodeHost

from ..models import LogBatch
from .bulk import insert_row

LOG_TYPES = ("result", "status")


class LogRejected(ValueError):
    """Refused lines: the agent gets `error`, keeps them and sends them again later."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _current_minute() -> int:
    return int(time.time() // 60)


def intake_admit(*, host_id: int, lines: int) -> str | None:
    """Per-host intake rate limit (FLEET["INTAKE_LINES_PER_MINUTE"], 0 = off). Over the limit the
    agent is told to retry: unlike a SIEM throttle, this loses nothing, it only delays."""
    limit: int = fleet_setting("INTAKE_LINES_PER_MINUTE")
    if not limit:
        return None
    key = f"fleetweb:collector:intake:{host_id}:{_current_minute()}"
    redis = get_redis()
    with redis.pipeline() as pipe:
        pipe.incrby(key, lines)
        pipe.expire(key, 120)
        total = int(pipe.execute()[0])
    if total > limit:
        redis.decrby(key, lines)
        raise LogRejected(f"rate limited: over {limit} log lines a minute for this host; retry later", 429)
    return key


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


def log_batch_store(*, node: NodeHost, log_type: str, lines: list[dict[str, Any]]) -> int | None:
    """Store the lines in one INSERT and return the batch id (None for an empty batch).

    The caller may acknowledge the agent only after this returns: the row is committed by then.
    """
    if not lines:
        return None
    admitted = intake_admit(host_id=node.id, lines=len(lines))
    try:
        # One INSERT in autocommit is committed when it returns; an explicit transaction would
        # only add round trips to the busiest write path. Sent as plain SQL: building a model
        # and compiling its INSERT cost more CPU than the rest of the request.
        batch_id = insert_row(
            LogBatch,
            _BATCH_COLUMNS,
            (
                node.id,
                node.host_identifier[:255],
                log_type,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                len(lines),
                zlib.compress(orjson.dumps(lines), 1),
            ),
        )
        transaction.on_commit(lambda: _dispatch(batch_id))
    except Exception:
        if admitted:
            # Not stored, so not counted: the agent's retry must not be limited by it.
            get_redis().decrby(admitted, len(lines))
        raise
    return batch_id


_BATCH_COLUMNS = ("host_id", "host_identifier", "log_type", "received_at", "line_count", "payload")


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
