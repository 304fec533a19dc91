"""A small fixed-window rate limiter in Redis, for login and enroll brute-force protection.

Fixed windows are enough here: the aim is to make guessing passwords and enroll secrets slow, not
to shape traffic. Counting happens in Redis so every server process shares the budget.
"""

import time

from django.conf import settings
from redis.exceptions import RedisError

from fleetweb.redis import get_redis


def rate_limit_hit(bucket: str, key: str, *, limit: int, window: int) -> int:
    """Count one attempt. Returns 0 when allowed, else the seconds until the window resets.

    When Redis is unreachable attempts are allowed: refusing every login (or every agent) because
    the limiter is down would be worse than a short unprotected spell.
    """
    if limit <= 0:
        return 0
    now = int(time.time())
    window_start = now - now % window
    redis_key = f"rl:{bucket}:{window_start}:{key}"
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.incr(redis_key)
        pipe.expire(redis_key, window + 1)
        count = int(pipe.execute()[0])
    except RedisError:
        return 0
    if count > limit:
        return max(1, window_start + window - now)
    return 0


def client_ip(request) -> str:  # type: ignore[no-untyped-def]
    """The client's address. X-Forwarded-For is trusted only when the server is told it sits
    behind a proxy, otherwise a client could pick its own bucket."""
    if getattr(settings, "FLEET", {}).get("TRUST_X_FORWARDED_FOR"):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The last entry is the one our proxy appended; earlier ones come from the client.
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limit_exceeded(bucket: str, key: str, *, limit: int, window: int) -> int:
    """Like rate_limit_hit but without counting: seconds to wait when the budget is spent, else 0.
    Used where only failures count (a correct enroll secret must not use up the budget)."""
    if limit <= 0:
        return 0
    now = int(time.time())
    window_start = now - now % window
    try:
        count = int(get_redis().get(f"rl:{bucket}:{window_start}:{key}") or 0)
    except RedisError:
        return 0
    return max(1, window_start + window - now) if count >= limit else 0


def enroll_wait(request) -> int:  # type: ignore[no-untyped-def]
    """Seconds an enrolling client must wait, or 0. Every attempt counts against a generous
    per-address budget; failed ones (a wrong secret) against a much smaller one."""
    from fleetweb.conf import fleet_setting

    ip = client_ip(request)
    wait = rate_limit_exceeded("enroll-fail", ip, limit=fleet_setting("ENROLL_FAILURE_RATE_LIMIT"), window=60)
    return wait or rate_limit_hit("enroll", ip, limit=fleet_setting("ENROLL_RATE_LIMIT"), window=60)


def enroll_failed(request) -> None:  # type: ignore[no-untyped-def]
    from fleetweb.conf import fleet_setting

    rate_limit_hit("enroll-fail", client_ip(request), limit=fleet_setting("ENROLL_FAILURE_RATE_LIMIT"), window=60)
