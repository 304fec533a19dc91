"""The one Redis connection the hot agent paths use, and cache generations.

With REDIS_URL unset (the embedded default) an in-process fakeredis server stands in, so the
same code runs with nothing but Python. That stand-in is per process: run one server process.
Management commands run in other processes, so in embedded mode a generation bump also touches
a stamp file, and the server replays outside bumps when it sees the stamp change
(`embedded_sync`).
"""

import os
from functools import cache
from pathlib import Path

import redis
from django.conf import settings

# Every generation counter a cache is keyed on. A bump makes the next reader rebuild.
GENERATION_KEYS: set[str] = set()


@cache
def get_redis() -> "redis.Redis[bytes]":
    if settings.REDIS_URL:
        return redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )
    import fakeredis

    return fakeredis.FakeRedis()


def generation_key(name: str) -> str:
    GENERATION_KEYS.add(name)
    return name


def generation_bump(key: str) -> None:
    get_redis().incr(key)
    if not settings.REDIS_URL:
        _stamp_path().parent.mkdir(parents=True, exist_ok=True)
        _stamp_path().touch()
        _seen_stamp[0] = _stamp_mtime()


def _stamp_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "generation.stamp"


def _stamp_mtime() -> int:
    try:
        return os.stat(_stamp_path()).st_mtime_ns
    except FileNotFoundError:
        return 0


# The stamp this process last acted on; starts at 0 so the first check rebuilds nothing stale.
_seen_stamp = [0]


def embedded_sync() -> None:
    """Embedded mode only: if another process (a management command) bumped a generation, bump
    every generation here too, so caches in this process's stand-in Redis are rebuilt."""
    if settings.REDIS_URL:
        return
    mtime = _stamp_mtime()
    if mtime != _seen_stamp[0]:
        _seen_stamp[0] = mtime
        client = get_redis()
        for key in GENERATION_KEYS:
            client.incr(key)
        # Node keys may have been revoked by the other process: reload them from the database.
        for cached in client.scan_iter(match="nk:*", count=1000):
            client.delete(cached)
