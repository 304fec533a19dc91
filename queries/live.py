"""Live queries (campaigns): target hosts, hand the SQL out on distributed/read, collect answers.

Redis carries everything the agents' check-ins touch. The pending hash is read in the same round
trip that resolves the agent's node key (hosts.checkin), so a steady-state distributed/read costs
no SQL and no extra Redis call:
- `dq:<host>` hash, query id -> SQL, for every campaign the host still owes an answer, and
  `d:<query id>` -> discovery SQL for campaigns launched with one (same hash: same round trip);
- `dqs:<host>` hash, query id -> how many times the query was handed out (discovery bookkeeping).

Each answer is stored on its CampaignHost row and appended to `lq:<id>:res`, a Redis list read by
offset, so every subscriber (browser, CLI, API, late or reconnecting) sees every result in the
same order. `lq:<id>:left` counts hosts still owing an answer; the last answer completes the
campaign. `lq:<id>:ping` is a pub/sub channel that only wakes waiting subscribers up: they always
re-read the list, so a missed ping never loses a result.
"""

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.services import activity_record
from collector.distributed import QueryResult, ReadWork, register_prefetched_read_provider, register_write_handler
from fleetweb.conf import fleet_setting
from fleetweb.redis import get_redis
from hosts.models import Host
from hosts.node_cache import NodeHost
from hosts.status import HostStatus, host_statuses

from .models import Campaign, CampaignCarve, CampaignHost
from .targets import resolve_targets

log = logging.getLogger(__name__)

PREFIX = "fleetweb_live"
# A query with discovery SQL that a host was handed this many times without answering was filtered
# out by its discovery query: the agent neither stores nor reports such a query (protocol §5.3).
# Two full cycles are allowed because a failed write is retried with the next cycle's write.
DISCOVERY_SILENT_DELIVERIES = 3
# Results stay readable from Redis this long after the campaign's expiry; the database keeps them.
RESULTS_GRACE_SECONDS = 24 * 3600
ENDED = (Campaign.Status.COMPLETED, Campaign.Status.STOPPED, Campaign.Status.EXPIRED)


class CampaignError(ValueError):
    """A campaign request that cannot be carried out; the message is shown to the operator."""


PENDING_KEY = "dq:{host_id}"


def pending_key(host_id: int) -> str:
    return PENDING_KEY.format(host_id=host_id)


def _discovery_field(query_id: str) -> str:
    return f"d:{query_id}"


def _deliveries_key(host_id: int) -> str:
    return f"dqs:{host_id}"


def _results_key(campaign_id: int) -> str:
    return f"lq:{campaign_id}:res"


def _left_key(campaign_id: int) -> str:
    return f"lq:{campaign_id}:left"


def _ping_channel(campaign_id: int) -> str:
    return f"lq:{campaign_id}:ping"


def _status_key(campaign_id: int) -> str:
    return f"lq:{campaign_id}:status"


def campaign_query_id(campaign_id: int) -> str:
    return f"{PREFIX}_{campaign_id}"


def _campaign_id_of(query_id: str) -> int | None:
    rest = query_id[len(PREFIX) + 1 :]
    return int(rest) if rest.isdigit() else None


def campaign_launch(
    *,
    sql: str,
    targets: dict[str, Any] | None = None,
    host_ids: Iterable[int] | None = None,
    user: Any = None,
    ttl: int | None = None,
    discovery: str = "",
) -> Campaign:
    """Resolve `targets` to hosts now, create the campaign and hand it to those hosts' next check-in.

    `targets` is `{"hosts": [id|hostname|uuid|serial], "labels": [id|name], "platforms": [...],
    "all": bool}`; `host_ids` is shorthand for `{"hosts": host_ids}`. Raises CampaignError for
    empty SQL, unknown targets or no hosts at all. The launch is written to the audit log.
    """
    if host_ids is not None:
        targets = {**(targets or {}), "hosts": sorted(set(host_ids))}
    sql = (sql or "").strip()
    if not sql:
        # osquery loops on an empty query (Fleet issues #14286, #15524).
        raise CampaignError("query SQL is empty")
    try:
        resolved = resolve_targets(targets if targets is not None else {})
    except ValueError as exc:
        raise CampaignError(str(exc)) from exc
    if not resolved:
        raise CampaignError("no hosts targeted")
    return campaign_launch_hosts(
        sql=sql,
        host_ids=resolved,
        ttl=ttl or fleet_setting("LIVE_QUERY_TTL"),
        user=user,
        targets_spec=targets,
        discovery=discovery.strip(),
    )


@transaction.atomic
def campaign_launch_hosts(
    *,
    sql: str,
    host_ids: Iterable[int],
    ttl: int,
    user: Any = None,
    targets_spec: dict[str, Any] | None = None,
    discovery: str = "",
) -> Campaign:
    ids = sorted(set(host_ids))
    campaign = Campaign.objects.create(
        sql=sql,
        discovery=discovery,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        expires_at=timezone.now() + timedelta(seconds=ttl),
        target_count=len(ids),
        targets_spec=targets_spec or {},
    )
    CampaignHost.objects.bulk_create(
        [CampaignHost(campaign=campaign, host_id=host_id) for host_id in ids], batch_size=1000
    )
    activity_record(
        actor=user,
        action="live_query",
        details={"campaign_id": campaign.pk, "sql": sql, "targets": targets_spec or {}, "target_count": len(ids)},
    )
    campaign_id = campaign.pk
    transaction.on_commit(lambda: _publish(campaign_id, sql, discovery, ids, ttl))
    return campaign


def _publish(campaign_id: int, sql: str, discovery: str, host_ids: list[int], ttl: int) -> None:
    query_id = campaign_query_id(campaign_id)
    keep = ttl + 60
    pipe = get_redis().pipeline(transaction=False)
    pipe.set(_left_key(campaign_id), len(host_ids), ex=keep + RESULTS_GRACE_SECONDS)
    for host_id in host_ids:
        pipe.hset(pending_key(host_id), query_id, sql)
        _extend_expiry(pipe, pending_key(host_id), keep)
        if discovery:
            pipe.hset(pending_key(host_id), _discovery_field(query_id), discovery)
    pipe.execute()


def _extend_expiry(pipe: Any, key: str, seconds: int) -> None:
    # A short campaign must not cut short the expiry of a longer one pending in the same hash:
    # NX sets a first expiry, GT only ever lengthens it.
    pipe.expire(key, seconds, nx=True)
    pipe.expire(key, seconds, gt=True)


def _unpublish(campaign_id: int, host_ids: Iterable[int]) -> None:
    query_id = campaign_query_id(campaign_id)
    pipe = get_redis().pipeline(transaction=False)
    for host_id in host_ids:
        pipe.hdel(pending_key(host_id), query_id, _discovery_field(query_id))
        pipe.hdel(_deliveries_key(host_id), query_id)
    pipe.execute()


def _announce_end(campaign_id: int, status: str) -> None:
    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    pipe.set(_status_key(campaign_id), status, ex=RESULTS_GRACE_SECONDS)
    pipe.delete(_left_key(campaign_id))
    pipe.publish(_ping_channel(campaign_id), b"end")
    pipe.execute()


def campaign_stop(campaign: Campaign, *, user: Any = None, status: str = Campaign.Status.STOPPED) -> bool:
    """End a running campaign: hosts that have not answered are no longer asked and are recorded as
    `no_answer`. Returns False when the campaign had already ended."""
    with transaction.atomic():
        ended = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(
            status=status, ended_at=timezone.now()
        )
        if not ended:
            return False
        unanswered = list(
            CampaignHost.objects.filter(campaign=campaign, status=CampaignHost.Status.PENDING).values_list(
                "host_id", flat=True
            )
        )
        CampaignHost.objects.filter(campaign=campaign, status=CampaignHost.Status.PENDING).update(
            status=CampaignHost.Status.NO_ANSWER
        )
        if user is not None and status == Campaign.Status.STOPPED:
            activity_record(actor=user, action="live_query_stopped", details={"campaign_id": campaign.pk})
    campaign.status = status
    campaign_id = campaign.pk

    def cleanup() -> None:
        _unpublish(campaign_id, unanswered)
        _announce_end(campaign_id, status)

    transaction.on_commit(cleanup)
    return True


def campaign_expire_due(now: datetime | None = None) -> int:
    """Expire running campaigns past their deadline; returns how many ended."""
    now = now or timezone.now()
    count = 0
    for campaign in Campaign.objects.filter(status=Campaign.Status.RUNNING, expires_at__lte=now):
        count += campaign_stop(campaign, status=Campaign.Status.EXPIRED)
    return count


def _complete(campaign_id: int) -> None:
    done = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).update(
        status=Campaign.Status.COMPLETED, ended_at=timezone.now()
    )
    if done:
        _announce_end(campaign_id, Campaign.Status.COMPLETED)


# --- the agent side -------------------------------------------------------------------------------


@register_prefetched_read_provider(("hash", PENDING_KEY))
def live_work(node: NodeHost, now: float, pending: dict[bytes, bytes]) -> ReadWork:
    if not pending:
        return ReadWork()
    fields = {k.decode(): v.decode() for k, v in pending.items()}
    queries = {k: v for k, v in fields.items() if not k.startswith("d:")}
    discovery_sql = {k: fields[_discovery_field(k)] for k in queries if _discovery_field(k) in fields}
    if discovery_sql:
        kept = _count_discovery_deliveries(node, discovery_sql)
        for query_id in discovery_sql.keys() - kept.keys():
            del queries[query_id]
        discovery_sql = kept
    return ReadWork(queries=queries, discovery=discovery_sql)


def _count_discovery_deliveries(node: NodeHost, discovery_sql: dict[str, str]) -> dict[str, str]:
    """Hand out queries with discovery SQL, and give up on those the host keeps silently dropping."""
    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    for query_id in discovery_sql:
        pipe.hincrby(_deliveries_key(node.id), query_id, 1)
    pipe.expire(_deliveries_key(node.id), 7 * 24 * 3600)
    counts = pipe.execute()[:-1]
    still = {}
    for (query_id, sql), count in zip(discovery_sql.items(), counts, strict=True):
        campaign_id = _campaign_id_of(query_id)
        if count >= DISCOVERY_SILENT_DELIVERIES and campaign_id is not None:
            _record_answer(node, campaign_id, status=CampaignHost.Status.FILTERED, rows=[], error="", stats={})
        else:
            still[query_id] = sql
    return still


@register_write_handler(PREFIX)
def live_results(node: NodeHost, results: list[QueryResult]) -> None:
    """Store each answer (rows, status, error message, stats) on the host's CampaignHost row.

    Only a pending row is updated, so an agent resending a write after a lost reply changes
    nothing. The answer reaches subscribers and leaves the host's pending work only once the
    rows are committed. Each answer is its own autocommitted UPDATE: a write that fails halfway
    is resent whole by the agent and the answers already stored are not pending any more, so a
    transaction would add three round trips (on MySQL) to every answer and protect nothing."""
    for result in results:
        campaign_id = _campaign_id_of(result.query_id)
        if campaign_id is None:
            log.info("host %s answered malformed live query id %r", node.id, result.query_id)
            continue
        status = CampaignHost.Status.SUCCEEDED if result.ok else CampaignHost.Status.FAILED
        error = "" if result.ok else (result.message or "query failed")
        _record_answer(node, campaign_id, status=status, rows=result.rows, error=error, stats=result.stats)
        if result.ok and result.rows and "carve_guid" in result.rows[0]:
            _link_carves(campaign_id, node.id, result.rows)


def _record_answer(
    node: NodeHost, campaign_id: int, *, status: str, rows: list[dict[str, str]], error: str, stats: dict[str, int]
) -> None:
    now = timezone.now()
    fields = {
        "status": status,
        "rows": rows,
        "row_count": len(rows),
        "error": error,
        "stats": stats,
        "answered_at": now,
    }
    first = CampaignHost.objects.filter(
        campaign_id=campaign_id, host_id=node.id, status=CampaignHost.Status.PENDING
    ).update(**fields)
    late = 0
    if not first and status != CampaignHost.Status.FILTERED:
        # A host given up on as filtered may still answer after all (a write retried late).
        late = CampaignHost.objects.filter(
            campaign_id=campaign_id, host_id=node.id, status=CampaignHost.Status.FILTERED
        ).update(**fields)
    transaction.on_commit(
        lambda: _publish_answer(node, campaign_id, status, rows, error, stats, now, first=bool(first), late=bool(late))
    )


def _publish_answer(
    node: NodeHost,
    campaign_id: int,
    status: str,
    rows: list[dict[str, str]],
    error: str,
    stats: dict[str, int],
    now: datetime,
    *,
    first: bool,
    late: bool,
) -> None:
    """Take the query off the host's pending work, append the answer to the campaign's feed and
    complete the campaign when this was the last host. Runs once the answer is committed."""
    query_id = campaign_query_id(campaign_id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.hdel(pending_key(node.id), query_id, _discovery_field(query_id))
    pipe.hdel(_deliveries_key(node.id), query_id)
    if first or late:
        event = {
            "host_id": node.id,
            "hostname": node.hostname,
            "status": status,
            "rows": rows,
            "error": error,
            "stats": stats,
            "answered_at": now.isoformat(),
        }
        pipe.rpush(_results_key(campaign_id), orjson.dumps(event))
        pipe.expire(_results_key(campaign_id), fleet_setting("LIVE_QUERY_TTL") + RESULTS_GRACE_SECONDS)
    if first:
        pipe.decr(_left_key(campaign_id))
    if first or late:
        pipe.publish(_ping_channel(campaign_id), b"")
    replies = pipe.execute()
    if first and replies[-2] <= 0:
        _complete(campaign_id)


def _link_carves(campaign_id: int, host_id: int, rows: list[dict[str, str]]) -> None:
    # The carve GUID in the `carves` row is the carve_id the agent sends at carve/begin.
    for row in rows:
        guid = row.get("carve_guid", "")
        if guid:
            CampaignCarve.objects.get_or_create(
                carve_guid=guid[:64],
                defaults={"campaign_id": campaign_id, "host_id": host_id, "request_id": row.get("request_id", "")[:64]},
            )


# --- reading results ------------------------------------------------------------------------------


def campaign_status_now(campaign: Campaign) -> str:
    """The campaign's status, from Redis when it ended since `campaign` was loaded."""
    if campaign.status != Campaign.Status.RUNNING:
        return campaign.status
    ended = get_redis().get(_status_key(campaign.pk))
    if ended:
        return ended.decode()
    return Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first() or campaign.status


def campaign_results_since(campaign: Campaign, offset: int) -> list[dict[str, Any]]:
    """Results after the first `offset` ones, in arrival order. Offsets are stable: result number
    n (1-based) is always the same host, so `offset` doubles as an SSE event id."""
    offset = max(0, offset)
    redis = get_redis()
    key = _results_key(campaign.pk)
    if redis.exists(key):
        return [orjson.loads(item) for item in redis.lrange(key, offset, -1)]
    # The Redis copy expired: rebuild from the database in answer order.
    answered = (
        CampaignHost.objects.filter(campaign=campaign, answered_at__isnull=False)
        .select_related("host")
        .order_by("answered_at", "id")[offset:]
    )
    return [
        {
            "host_id": ch.host_id,
            "hostname": ch.host.hostname,
            "status": ch.status,
            "rows": ch.rows,
            "error": ch.error,
            "stats": ch.stats,
            "answered_at": ch.answered_at.isoformat() if ch.answered_at else None,
        }
        for ch in answered
    ]


def campaign_wait(campaign: Campaign, offset: int, timeout: float) -> tuple[list[dict[str, Any]], str]:
    """Block until results after `offset` exist, the campaign ends, or `timeout` seconds pass.

    Returns (new results, campaign status)."""
    deadline = time.monotonic() + max(0.0, timeout)
    pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(_ping_channel(campaign.pk))
    try:
        while True:
            # Subscribed before reading: a result that lands in between still wakes us up.
            results = campaign_results_since(campaign, offset)
            status = campaign_status_now(campaign)
            remaining = deadline - time.monotonic()
            if results or status != Campaign.Status.RUNNING or remaining <= 0:
                return results, status
            pubsub.get_message(timeout=min(remaining, 1.0))
    finally:
        pubsub.close()


def campaign_progress(campaign: Campaign, now: datetime | None = None) -> dict[str, Any]:
    """Counts an operator can act on: who answered, who failed, who is still pending, and which of
    the pending hosts are offline and so will not answer soon."""
    counts = dict(
        CampaignHost.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).order_by()
    )
    status = campaign_status_now(campaign)
    pending = counts.get(CampaignHost.Status.PENDING, 0)
    offline = 0
    if pending and status == Campaign.Status.RUNNING:
        pending_hosts = Host.objects.filter(
            campaign_results__campaign=campaign, campaign_results__status=CampaignHost.Status.PENDING
        )
        statuses = host_statuses(pending_hosts, now or timezone.now())
        offline = sum(1 for s in statuses.values() if s in (HostStatus.OFFLINE, HostStatus.MISSING))
    succeeded = counts.get(CampaignHost.Status.SUCCEEDED, 0)
    failed = counts.get(CampaignHost.Status.FAILED, 0)
    return {
        "campaign_id": campaign.pk,
        "status": status,
        "targeted": campaign.target_count,
        "responded": succeeded + failed,
        "succeeded": succeeded,
        "failed": failed,
        "filtered": counts.get(CampaignHost.Status.FILTERED, 0),
        "pending": pending,
        "offline": offline,
        "no_answer": counts.get(CampaignHost.Status.NO_ANSWER, 0),
    }


# --- one host, synchronously ----------------------------------------------------------------------


def host_query_sync(*, host: Host, sql: str, timeout: float | None = None, user: Any = None) -> dict[str, Any]:
    """Run `sql` on one host and wait up to `timeout` seconds (LIVE_QUERY_SYNC_TIMEOUT, 25 s by
    default) for its answer. Returns `{host_id, query, status, rows, error}`, where status is the
    host's online/offline status and `error` says why no rows came back."""
    timeout = float(fleet_setting("LIVE_QUERY_SYNC_TIMEOUT") if timeout is None else timeout)
    online = host_statuses([host], timezone.now()).get(host.pk, HostStatus.OFFLINE)
    campaign = campaign_launch(sql=sql, targets={"hosts": [host.pk]}, user=user, ttl=int(timeout) + 60)
    reply: dict[str, Any] = {"host_id": host.pk, "query": sql, "status": online.value, "rows": [], "error": None}
    deadline = time.monotonic() + timeout
    results: list[dict[str, Any]] = []
    while not results and time.monotonic() < deadline:
        results, status = campaign_wait(campaign, 0, deadline - time.monotonic())
        if status != Campaign.Status.RUNNING and not results:
            break
    campaign_stop(campaign, status=Campaign.Status.COMPLETED if results else Campaign.Status.EXPIRED)
    if not results:
        reply["error"] = f"timeout waiting for results after {timeout:g} s"
        return reply
    answer = results[0]
    reply["rows"] = answer["rows"]
    reply["error"] = answer["error"] or None
    if answer["status"] == CampaignHost.Status.FILTERED:
        reply["error"] = "the host's discovery query filtered this query out"
    return reply


def campaign_carves(campaign: Campaign) -> list[CampaignCarve]:
    return list(CampaignCarve.objects.filter(campaign=campaign).order_by("id"))
