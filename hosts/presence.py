""" "Last seen", recorded without a database write per check-in.

Each agent request sets the host's timestamp in one Redis hash; `last_seen_flush` moves the hash
into the database in one bulk UPDATE. Celery beat runs the flush every few seconds. Without a
worker (the embedded default) the request path flushes at most once per FLUSH_EVERY seconds.
"""

import time
from datetime import UTC, datetime

from django.conf import settings

from fleetweb.redis import get_redis

from .models import Host

HASH = "lastseen"
_HASH = HASH
_FLUSHING = "lastseen:flushing"
FLUSH_EVERY = 10.0
_last_inline_flush = 0.0


def mark_seen(host_id: int, now: float | None = None) -> None:
    get_redis().hset(_HASH, str(host_id), int(now or time.time()))
    flush_without_worker()


def flush_without_worker() -> None:
    """After a check-in was recorded: flush from the request path when no Celery worker will."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _maybe_flush_inline()


def _maybe_flush_inline() -> None:
    global _last_inline_flush
    now = time.monotonic()
    if now - _last_inline_flush >= FLUSH_EVERY:
        _last_inline_flush = now
        last_seen_flush()


def last_seen_flush() -> int:
    """Write pending last-seen times to the database; returns how many hosts were updated."""
    redis = get_redis()
    # One flusher at a time; the lock expires so a crashed flusher cannot wedge it.
    if not redis.set("lastseen:lock", 1, nx=True, ex=60):
        return 0
    try:
        return _flush_locked(redis)
    finally:
        redis.delete("lastseen:lock")


def _flush_locked(redis) -> int:  # type: ignore[no-untyped-def]
    # RENAME is atomic: check-ins that arrive during the flush land in a fresh hash. A hash left
    # behind by a flusher that died is finished first.
    if not redis.exists(_FLUSHING):
        if not redis.exists(_HASH):
            return 0
        redis.rename(_HASH, _FLUSHING)
    pending = redis.hgetall(_FLUSHING)
    hosts = [
        Host(id=int(host_id), last_seen_at=datetime.fromtimestamp(int(ts), tz=UTC)) for host_id, ts in pending.items()
    ]
    existing = set(Host.objects.filter(id__in=[h.id for h in hosts]).values_list("id", flat=True))
    Host.objects.bulk_update([h for h in hosts if h.id in existing], ["last_seen_at"], batch_size=500)
    redis.delete(_FLUSHING)
    return len(existing)


def seen_recently(host_id: int) -> datetime | None:
    """The freshest last-seen time, including what has not been flushed yet."""
    ts = get_redis().hget(_HASH, str(host_id))
    return datetime.fromtimestamp(int(ts), tz=UTC) if ts else None
