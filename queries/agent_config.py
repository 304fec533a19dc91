"""The config each agent receives, rendered from the database and served from Redis.

The rendered bytes are cached per host together with the config generation they were built
from. Anything that can change a config bumps the generation (queries.invalidation), so the next
request renders again. Rendering is deterministic (sorted keys, no timestamps): the agent only
reloads its schedule when the bytes change (protocol doc §3.2).
"""

import hashlib
import logging
from typing import Any

import orjson
from django.db.models import Q

from fleetweb.conf import fleet_setting
from fleetweb.redis import generation_bump, generation_key, get_redis
from hosts.checkin import Prefetch, prefetch_fetch
from hosts.models import Host
from hosts.node_cache import NodeHost

from .agent_options import DEFAULT_AGENT_OPTIONS
from .models import AgentOptions, Label, LabelMembership, Pack, ScheduledQuery
from .validators import RESERVED_NAME_PREFIXES, RESERVED_NAME_SUFFIXES

log = logging.getLogger(__name__)

GENERATION_KEY = generation_key("cfg:gen")
HOST_CACHE_KEY = "cfg:h:{host_id}"
_CACHE_SECONDS = 24 * 3600
# osquery rejects a config nested deeper than this (kMaxConfigDepth in config.cpp).
MAX_CONFIG_DEPTH = 32
# Fetched with the node-key lookup (hosts.checkin), so a cached config costs no extra round trip.
CONFIG_PREFETCH: tuple[Prefetch, ...] = (("get", GENERATION_KEY), ("hash", HOST_CACHE_KEY))


class ConfigUnservable(Exception):
    """The rendered config would make the agent drop its schedule (too big or too deep); the agent
    must be told `error` instead, so it keeps the config it runs (protocol doc §3.2)."""


def config_hash(body: bytes) -> str:
    """The `osquery_info.config_hash` an agent reports after loading `body` as its only source:
    SHA1 over the hex SHA1 of the content."""
    # osquery's own fingerprint, not a security use.
    inner = hashlib.sha1(body, usedforsecurity=False).hexdigest()
    return hashlib.sha1(inner.encode(), usedforsecurity=False).hexdigest()


def config_generation_bump() -> None:
    generation_bump(GENERATION_KEY)


def config_forget_host(host_id: int) -> None:
    """Drop one host's cached config: for changes that can only alter that host's config (its
    label memberships), so the rest of the fleet keeps its cache."""
    get_redis().delete(HOST_CACHE_KEY.format(host_id=host_id))


def _scheduled_query_object(sq: ScheduledQuery) -> dict[str, Any]:
    obj: dict[str, Any] = {"query": sq.query.sql, "interval": sq.interval}
    if sq.logging == ScheduledQuery.Logging.SNAPSHOT:
        obj["snapshot"] = True
    elif sq.logging == ScheduledQuery.Logging.DIFFERENTIAL_IGNORE_REMOVALS:
        obj["removed"] = False
    platform = sq.platform or sq.query.platform
    if platform:
        obj["platform"] = platform
    version = sq.min_osquery_version or sq.query.min_osquery_version
    if version:
        obj["version"] = version
    if sq.shard:
        obj["shard"] = sq.shard
    if not sq.denylist:
        obj["denylist"] = False
    return obj


def _name_reserved(name: str) -> bool:
    return name.startswith(RESERVED_NAME_PREFIXES) or name.endswith(RESERVED_NAME_SUFFIXES)


def pack_object(pack: Pack) -> dict[str, Any]:
    queries = {}
    for sq in pack.scheduled_queries.all():
        # The model validator refuses these names, but bulk imports can bypass it; the agent
        # would skip the query with only a local warning, so leave it out visibly here.
        if _name_reserved(sq.name):
            log.warning("pack %r: query name %r is reserved by osquery; not served", pack.name, sq.name)
            continue
        queries[sq.name] = _scheduled_query_object(sq)
    obj: dict[str, Any] = {"queries": queries}
    if pack.platform:
        obj["platform"] = pack.platform
    if pack.min_osquery_version:
        obj["version"] = pack.min_osquery_version
    if pack.shard:
        obj["shard"] = pack.shard
    if pack.discovery:
        obj["discovery"] = list(pack.discovery)
    return obj


def packs_for_host(host_id: int, platform: str) -> list[Pack]:
    label_ids = Label.objects.filter(
        Q(builtin_platform__in=[platform, "all"])
        | Q(id__in=LabelMembership.objects.filter(host_id=host_id).values("label_id"))
    ).values("id")
    targeted = Q(target_labels__in=label_ids) | Q(target_hosts=host_id) | Q(target_platforms__contains=platform)
    pack_ids = Pack.objects.filter(targeted, disabled=False).values("id")
    return list(Pack.objects.filter(id__in=pack_ids).prefetch_related("scheduled_queries__query"))


def config_render(host_id: int, platform: str) -> bytes:
    """The agent config for one host, as compact JSON bytes."""
    options = AgentOptions.objects.filter(pk=1).first()
    config = dict(options.config_for_platform(platform)) if options else {}
    if not config:
        config = DEFAULT_AGENT_OPTIONS
    body: dict[str, Any] = dict(config)
    packs = packs_for_host(host_id, platform)
    if packs:
        body["packs"] = {pack.name: pack_object(pack) for pack in packs}
    rendered = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    limit = fleet_setting("CONFIG_MAX_BYTES")
    if len(rendered) > limit:
        raise ConfigUnservable(f"the config for this host is {len(rendered)} bytes; osquery accepts at most {limit}")
    if _depth(body) > MAX_CONFIG_DEPTH:
        raise ConfigUnservable(f"the config for this host is nested deeper than osquery's {MAX_CONFIG_DEPTH} levels")
    return rendered


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def config_for_node(node: NodeHost, prefetched: list[Any] | None = None) -> bytes:
    """The cached config bytes for a host, rendering on a miss.

    `prefetched` is the check-in's values for CONFIG_PREFETCH; with it a cache hit costs nothing
    more. Raises ConfigUnservable when the rendered config would break the agent.
    """
    redis = get_redis()
    if prefetched is None or len(prefetched) != len(CONFIG_PREFETCH):
        prefetched = prefetch_fetch(node.id, CONFIG_PREFETCH)
    generation, cached = prefetched
    generation = generation or b"0"
    cached_body = cached.get(b"body")
    if cached_body is not None and cached.get(b"gen") == generation:
        return bytes(cached_body)
    cache_key = HOST_CACHE_KEY.format(host_id=node.id)
    try:
        body = config_render(node.id, node.platform)
    except ConfigUnservable as exc:
        log.error("host %s: config not served: %s", node.id, exc)
        raise
    digest = config_hash(body)
    Host.objects.filter(pk=node.id).exclude(config_hash_served=digest).update(config_hash_served=digest)
    pipe = redis.pipeline(transaction=False)
    pipe.hset(cache_key, mapping={"gen": generation, "body": body})
    pipe.expire(cache_key, _CACHE_SECONDS)
    pipe.execute()
    return body
