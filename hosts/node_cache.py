"""Node key -> host, without SQL in steady state.

Agents present their node key on every request, several times a minute. The mapping lives in
Redis under `nk:<sha256(key)>` and is filled from the database on a miss. Re-enroll and host
deletion replace the entry with a tombstone at once (see hosts.services), so a revoked key stops
working immediately, even if a request that read the host row just before the change tries to
cache it afterwards: misses are cached with SET NX, which never overwrites a tombstone.
"""

from dataclasses import asdict, dataclass

import orjson

from fleetweb.conf import fleet_setting
from fleetweb.redis import generation_key, get_redis

from .models import Host, hash_token

_FIELDS = ("id", "host_identifier", "hostname", "uuid", "platform", "osquery_version", "enroll_secret_id")
# Stored in place of a revoked key's entry; never valid JSON, so it cannot be mistaken for a host.
TOMBSTONE = b"-"
# Bumped when hosts are deleted. In embedded mode, a server that sees an outside bump drops its
# whole node-key cache (fleetweb.redis.embedded_sync), since the revocation marker was written
# to another process's stand-in Redis.
HOSTS_GENERATION = generation_key("hosts:gen")


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

    def encode(self) -> bytes:
        # `id` must stay the first member: hosts.checkin's Lua script reads it with a prefix match.
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, cached: bytes) -> "NodeHost":
        return cls(**orjson.loads(cached))


def cache_key(node_key_hash: str) -> str:
    return f"nk:{node_key_hash}"


def node_host_load(node_key_hash: str) -> NodeHost | None:
    """The host behind a key digest, read from the database and cached (unless revoked meanwhile)."""
    row = Host.objects.filter(node_key_hash=node_key_hash).values(*_FIELDS).first()
    if row is None:
        return None
    node = NodeHost(**row)
    get_redis().set(cache_key(node_key_hash), node.encode(), ex=fleet_setting("NODE_CACHE_SECONDS"), nx=True)
    return node


def node_host_get(node_key: str) -> NodeHost | None:
    """The host behind a node key, or None for an unknown or revoked key."""
    if not node_key:
        return None
    digest = hash_token(node_key)
    cached = get_redis().get(cache_key(digest))
    if cached == TOMBSTONE:
        return None
    if cached:
        return NodeHost.decode(cached)
    return node_host_load(digest)


def node_host_store(node_key_hash: str, node: NodeHost) -> None:
    get_redis().set(cache_key(node_key_hash), node.encode(), ex=fleet_setting("NODE_CACHE_SECONDS"))


def node_host_forget(node_key_hash: str | None) -> None:
    """Revoke a key digest: the tombstone outlives any cached copy another request could write."""
    if node_key_hash:
        get_redis().set(cache_key(node_key_hash), TOMBSTONE, ex=fleet_setting("NODE_CACHE_SECONDS"))
