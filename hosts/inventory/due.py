"""When each host is next due for vitals, label and policy queries, kept in Redis.

One hash per host, `due:<host_id>`, maps a category ("details", "labels", "policies") to the unix
time the category is next due. A missing field means due now: a host that just enrolled (or whose
entry was lost) is asked at once. Reading it is the only work a steady-state check-in does for
these categories, and it needs no SQL: the hash is fetched in the check-in's own round trip.

While queries are out, the field is pushed INFLIGHT_SECONDS ahead so the host is not asked again
on every check-in before it has answered (Fleet's "1110 % responded" loop, kolide#1894).
"""

import hashlib

from fleetweb.redis import get_redis

INFLIGHT_SECONDS = 600
_KEEP_SECONDS = 30 * 24 * 3600


DUE_KEY = "due:{host_id}"


def _key(host_id: int) -> str:
    return DUE_KEY.format(host_id=host_id)


def due_from(prefetched: dict[bytes, bytes], category: str) -> float | None:
    """A category's due time from the host's prefetched due hash (hosts.checkin)."""
    value = prefetched.get(category.encode())
    return float(value) if value is not None else None


def jitter_seconds(host_id: int, category: str, interval: int, max_percent: int) -> int:
    """A stable per-host offset in [0, interval * max_percent / 100), so hosts spread out."""
    span = interval * max_percent // 100
    if span <= 0:
        return 0
    digest = hashlib.sha256(f"{category}:{host_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % span


def due_times(host_id: int, categories: tuple[str, ...]) -> list[float | None]:
    values = get_redis().hmget(_key(host_id), list(categories))
    return [float(v) if v is not None else None for v in values]


def due_set(host_id: int, category: str, at: float) -> None:
    pipe = get_redis().pipeline(transaction=False)
    pipe.hset(_key(host_id), category, int(at))
    pipe.expire(_key(host_id), _KEEP_SECONDS)
    pipe.execute()


def due_now(host_ids: list[int], categories: tuple[str, ...] = ("details", "labels", "policies")) -> None:
    """Make the categories due at the hosts' next check-in (operator refetch)."""
    pipe = get_redis().pipeline(transaction=False)
    for host_id in host_ids:
        pipe.hset(_key(host_id), mapping=dict.fromkeys(categories, 0))
        pipe.expire(_key(host_id), _KEEP_SECONDS)
    pipe.execute()


def due_reset(host_id: int) -> None:
    """Forget when the host was last asked: it is treated as never asked (and accelerated)."""
    get_redis().delete(_key(host_id))
