"""Host vitals over the distributed channel: send detail queries when due, ingest the answers."""

import logging
import time

from collector.distributed import QueryResult, ReadWork, register_prefetched_read_provider, register_write_handler
from fleetweb.conf import fleet_setting
from hosts.node_cache import NodeHost, node_host_store

from ..models import Host
from .catalog import BY_NAME, detail_queries_for
from .due import DUE_KEY, INFLIGHT_SECONDS, due_from, due_set, jitter_seconds
from .ingest import ingest_details

log = logging.getLogger(__name__)

PREFIX = "fleetweb_detail"
# A host that has never sent its vitals checks in every 5 s for this long, so labels and
# policies that depend on its platform and inventory follow quickly.
NEW_HOST_ACCELERATE = 60


@register_prefetched_read_provider(("hash", DUE_KEY))
def details_work(node: NodeHost, now: float, due_hash: dict[bytes, bytes]) -> ReadWork:
    due = due_from(due_hash, "details")
    if due is not None and due > now:
        return ReadWork()
    due_set(node.id, "details", now + INFLIGHT_SECONDS)
    work = ReadWork()
    for query in detail_queries_for(node.platform):
        work.queries[f"{PREFIX}_{query.name}"] = query.sql
        if query.discovery:
            work.discovery[f"{PREFIX}_{query.name}"] = query.discovery
    if due is None:
        work.accelerate = NEW_HOST_ACCELERATE
    return work


def next_details_due(host_id: int, now: float) -> float:
    interval = fleet_setting("DETAIL_UPDATE_INTERVAL")
    return now + interval + jitter_seconds(host_id, "details", interval, fleet_setting("MAX_JITTER_PERCENT"))


@register_write_handler(PREFIX)
def details_results(node: NodeHost, results: list[QueryResult]) -> None:
    ok = {}
    for result in results:
        name = result.query_id[len(PREFIX) + 1 :]
        if name not in BY_NAME:
            log.info("host %s answered unknown detail query %r", node.id, result.query_id)
        elif result.ok:
            ok[name] = result.rows
        else:
            log.info("host %s failed detail query %s: %s", node.id, name, result.message)
    if ok:
        fields = ingest_details(node.id, ok)
        _refresh_node_cache(node, fields)
    due_set(node.id, "details", next_details_due(node.id, time.time()))


def _refresh_node_cache(node: NodeHost, fields: dict) -> None:
    # The node cache carries hostname and osquery version; keep it in step with what was reported.
    changed = {
        k: v for k, v in fields.items() if k in ("hostname", "uuid", "osquery_version") and getattr(node, k) != v
    }
    if not changed:
        return
    key_hash = Host.objects.filter(pk=node.id).values_list("node_key_hash", flat=True).first()
    if key_hash:
        node_host_store(key_hash, NodeHost(**{**node.__dict__, **changed}))
