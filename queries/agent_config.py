"""The config each agent receives, rendered from the database and served from Redis.

The rendered bytes are cached per host together with the config generation they were built
from. Anything that can change a config bumps the generation (queries.invalidation), so the next
request renders again. Rendering is deterministic (sorted keys, no timestamps): the agent only
reloads its schedule when the bytes change (protocol doc §3.2).
"""

import hashlib
from typing import Any

import orjson
from django.db.models import Q

from fleetweb.redis import get_redis
from hosts.models import Host
from hosts.node_cache import NodeHost

from .agent_options import DEFAULT_AGENT_OPTIONS
from .models import AgentOptions, Label, LabelMembership, Pack, ScheduledQuery

GENERATION_KEY = "cfg:gen"
_CACHE_SECONDS = 24 * 3600


def config_hash(body: bytes) -> str:
    """The `osquery_info.config_hash` an agent reports after loading `body` as its only source:
    SHA1 over the hex SHA1 of the content."""
    return hashlib.sha1(hashlib.sha1(body).hexdigest().encode()).hexdigest()  # noqa: S324 - osquery's own hash


def config_generation_bump() -> None:
    get_redis().incr(GENERATION_KEY)


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


def pack_object(pack: Pack) -> dict[str, Any]:
    obj: dict[str, Any] = {"queries": {sq.name: _scheduled_query_object(sq) for sq in pack.scheduled_queries.all()}}
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
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def config_for_node(node: NodeHost) -> bytes:
    """The cached config bytes for a host, rendering on a miss. One Redis round trip on a hit."""
    redis = get_redis()
    cache_key = f"cfg:h:{node.id}"
    pipe = redis.pipeline(transaction=False)
    pipe.get(GENERATION_KEY)
    pipe.hmget(cache_key, "gen", "body")
    generation, (cached_gen, cached_body) = pipe.execute()
    generation = generation or b"0"
    if cached_body is not None and cached_gen == generation:
        return bytes(cached_body)
    body = config_render(node.id, node.platform)
    digest = config_hash(body)
    Host.objects.filter(pk=node.id).exclude(config_hash_served=digest).update(config_hash_served=digest)
    pipe = redis.pipeline(transaction=False)
    pipe.hset(cache_key, mapping={"gen": generation, "body": body})
    pipe.expire(cache_key, _CACHE_SECONDS)
    pipe.execute()
    return body
