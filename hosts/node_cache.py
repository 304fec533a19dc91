"""Node key -> host, without SQL in steady state.

Agents present their node key on every request, several times a minute. The mapping lives in
Redis under `nk:<sha256(key)>` and is filled from the database on a miss. Re-enroll and host
deletion remove the entry at once (see hosts.services), so a revoked key stops working immediately.
"""

from dataclasses import asdict, dataclass

import orjson

from fleetweb.conf import fleet_setting
from fleetweb.redis import get_redis

from .models import Host, hash_token

_FIELDS = ("id", "host_identifier", "hostname", "uuid", "platform", "osquery_version", "enroll_secret_id")


@dataclass(frozen=True)
class NodeHost:
    """What the agent endpoints need to know about the caller, cached next to its key."""

    id: int
    host_identifier: str
    hostname: str
    uuid: str
    platform: str
    osquery_version: str
    enroll_secret_id: int | None

    @classmethod
    def from_host(cls, host: Host) -> "NodeHost":
        return cls(**{f: getattr(host, f) for f in _FIELDS})


def _cache_key(node_key_hash: str) -> str:
    return f"nk:{node_key_hash}"


def node_host_get(node_key: str) -> NodeHost | None:
    if not node_key:
        return None
    digest = hash_token(node_key)
    redis = get_redis()
    cached = redis.get(_cache_key(digest))
    if cached:
        return NodeHost(**orjson.loads(cached))
    row = Host.objects.filter(node_key_hash=digest).values(*_FIELDS).first()
    if row is None:
        return None
    node = NodeHost(**row)
    node_host_store(digest, node)
    return node


def node_host_store(node_key_hash: str, node: NodeHost) -> None:
    get_redis().set(_cache_key(node_key_hash), orjson.dumps(asdict(node)), ex=fleet_setting("NODE_CACHE_SECONDS"))


def node_host_forget(node_key_hash: str | None) -> None:
    if node_key_hash:
        get_redis().delete(_cache_key(node_key_hash))
