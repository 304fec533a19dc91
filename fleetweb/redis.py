"""The one Redis connection the hot agent paths use.

With REDIS_URL unset (the embedded default) an in-process fakeredis server stands in, so the
same code runs with nothing but Python. That stand-in is per process: run one server process.
"""

from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> "redis.Redis[bytes]":
    if settings.REDIS_URL:
        return redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )
    import fakeredis

    return fakeredis.FakeRedis()
