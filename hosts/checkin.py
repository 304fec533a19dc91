"""An agent check-in in one Redis round trip: node key -> host, last seen, and per-host state.

Every agent request needs the host behind its node key and must record "last seen"; most also
read per-host state keyed by the host id (pending live queries, the cached config). Done one by
one that is three or more round trips per request, the second depending on the first. A small
Lua script does all of it server-side, so steady-state distributed/read and config cost one
round trip and no SQL. On a cache miss (or without a real Redis) the same work is done with a
database lookup and one pipeline.

Callers name the state they want as `Prefetch` specs: ("hash", "dq:{host_id}") or
("get", "cfg:gen"). The results come back in the same order.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from redis.commands.core import Script

from fleetweb.redis import get_redis

from . import presence
from .models import hash_token
from .node_cache import TOMBSTONE, NodeHost, cache_key, node_host_load

Prefetch = tuple[Literal["hash", "get"], str]
HOST_ID = "{host_id}"

# The key templates reach the script as arguments, not KEYS, because the host id is only known
# once the node key is resolved; this needs a single Redis (not a cluster), which fleetweb uses.
_CHECKIN_LUA = """
local cached = redis.call('GET', KEYS[1])
if not cached then return false end
if cached == ARGV[2] then return {cached} end
local id = string.match(cached, '^{"id":(%d+)')
if not id then return false end
redis.call('HSET', KEYS[2], id, ARGV[1])
local out = {cached}
for i = 3, #ARGV do
  local kind = string.sub(ARGV[i], 1, 1)
  local key = (string.gsub(string.sub(ARGV[i], 3), '{host_id}', id))
  if kind == 'h' then
    out[#out + 1] = redis.call('HGETALL', key)
  else
    out[#out + 1] = redis.call('GET', key)
  end
end
return out
"""
_script: Script | None = None


@dataclass(frozen=True)
class Checkin:
    node: NodeHost
    # One entry per Prefetch spec: a dict[bytes, bytes] for "hash", bytes or None for "get".
    prefetched: list[Any]


def _use_script() -> bool:
    # The in-process stand-in for Redis (embedded mode) has no Lua; its round trips are free.
    return bool(settings.REDIS_URL)


def _checkin_script() -> Script:
    global _script
    if _script is None:
        _script = get_redis().register_script(_CHECKIN_LUA)
    return _script


def _spec_arg(spec: Prefetch) -> str:
    kind, template = spec
    return f"{'h' if kind == 'hash' else 'g'}:{template}"


def _decode(spec: Prefetch, value: Any) -> Any:
    if spec[0] == "hash":
        if isinstance(value, dict):
            return value
        flat = value or []
        return dict(zip(flat[::2], flat[1::2], strict=True))
    return value


def prefetch_fetch(host_id: int, prefetch: Sequence[Prefetch]) -> list[Any]:
    """The prefetched state for a host, read with one pipeline (for callers outside a check-in)."""
    if not prefetch:
        return []
    pipe = get_redis().pipeline(transaction=False)
    _queue_prefetch(pipe, host_id, prefetch)
    return [_decode(spec, value) for spec, value in zip(prefetch, pipe.execute(), strict=True)]


def _queue_prefetch(pipe: Any, host_id: int, prefetch: Sequence[Prefetch]) -> None:
    for kind, template in prefetch:
        key = template.replace(HOST_ID, str(host_id))
        if kind == "hash":
            pipe.hgetall(key)
        else:
            pipe.get(key)


def node_checkin(node_key: str, prefetch: Sequence[Prefetch] = (), now: float | None = None) -> Checkin | None:
    """Resolve a node key, record the host as seen and read `prefetch`; None for an unknown or
    revoked key (nothing is recorded then)."""
    if not node_key:
        return None
    digest = hash_token(node_key)
    seen_at = int(now or time.time())
    checkin: Checkin | Literal["revoked"] | None = None
    if _use_script():
        checkin = _checkin_fast(digest, prefetch, seen_at)
    if checkin is None:
        checkin = _checkin_slow(digest, prefetch, seen_at)
    if not isinstance(checkin, Checkin):
        return None
    presence.flush_without_worker()
    return checkin


def _checkin_fast(digest: str, prefetch: Sequence[Prefetch], seen_at: int) -> Checkin | Literal["revoked"] | None:
    """The whole check-in in one script call; None when the key is not cached."""
    reply = _checkin_script()(
        keys=[cache_key(digest), presence.HASH],
        args=[seen_at, TOMBSTONE, *(_spec_arg(spec) for spec in prefetch)],
    )
    if not reply:
        return None
    if reply[0] == TOMBSTONE:
        return "revoked"
    return Checkin(
        node=NodeHost.decode(reply[0]),
        prefetched=[_decode(spec, value) for spec, value in zip(prefetch, reply[1:], strict=True)],
    )


def _checkin_slow(digest: str, prefetch: Sequence[Prefetch], seen_at: int) -> Checkin | None:
    redis = get_redis()
    cached = redis.get(cache_key(digest))
    if cached == TOMBSTONE:
        return None
    node = NodeHost.decode(cached) if cached else node_host_load(digest)
    if node is None:
        return None
    pipe = redis.pipeline(transaction=False)
    pipe.hset(presence.HASH, str(node.id), seen_at)
    _queue_prefetch(pipe, node.id, prefetch)
    results = pipe.execute()[1:]
    return Checkin(node=node, prefetched=[_decode(spec, value) for spec, value in zip(prefetch, results, strict=True)])
