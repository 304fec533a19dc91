"""osquery pack files -> fleetweb spec documents (what `fleetctl convert` prints).

The file is read by queries.packs_conf, the same reader pack import uses. Query names follow pack
import's rule so that applying the output and importing the file give the same objects: a
query is named after its key, or `<pack>/<key>` when that name already holds different SQL.
"""

from typing import Any

from queries.models import Query, ScheduledQuery
from queries.pack_import import target_platforms_for
from queries.packs_conf import ParsedFile, ParsedPack, ParsedQuery


def _query_name(pack: ParsedPack, parsed: ParsedQuery, taken: dict[str, str]) -> str:
    current = ScheduledQuery.objects.filter(pack__name=pack.name, name=parsed.name).select_related("query").first()
    for name in (parsed.name, f"{pack.name}/{parsed.name}"):
        sql = taken.get(name)
        if sql is None:
            existing = Query.objects.filter(name=name).first()
            owned = current is not None and existing is not None and current.query_id == existing.pk
            sql = None if existing is None or owned else existing.sql
        if sql is None or sql == parsed.sql:
            return name
    return f"{pack.name}/{parsed.name}"


def convert_packs(parsed: ParsedFile) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    taken: dict[str, str] = {}
    for pack in parsed.packs:
        scheduled = []
        for query in pack.queries:
            name = _query_name(pack, query, taken)
            if name not in taken:
                taken[name] = query.sql
                docs.append(
                    {
                        "apiVersion": "v1",
                        "kind": "query",
                        "spec": {
                            "name": name,
                            "description": query.description,
                            "query": query.sql,
                            "platform": query.platform,
                            "min_osquery_version": query.version,
                        },
                    }
                )
            item: dict[str, Any] = {"query": name, "name": query.name, "interval": query.interval}
            item["logging"] = query.logging
            if query.platform:
                item["platform"] = query.platform
            if query.version:
                item["version"] = query.version
            if query.shard is not None:
                item["shard"] = query.shard
            if not query.denylist:
                item["denylist"] = False
            if query.description:
                item["description"] = query.description
            scheduled.append(item)
        spec: dict[str, Any] = {"name": pack.name}
        if pack.platform:
            spec["platform"] = pack.platform
        if pack.version:
            spec["version"] = pack.version
        if pack.shard is not None:
            spec["shard"] = pack.shard
        if pack.discovery:
            spec["discovery"] = pack.discovery
        platforms = [p for p in target_platforms_for(pack.platform).split(",") if p]
        if platforms:
            spec["targets"] = {"platforms": platforms}
        spec["queries"] = scheduled
        docs.append({"apiVersion": "v1", "kind": "pack", "spec": spec})
    return docs
