"""Live queries: launch a campaign, hand it to hosts on distributed/read, store their answers.

Pending work sits in Redis, one hash per host (`dq:<host_id>`, query id -> SQL), read in the same
round trip that resolves the agent's node key (hosts.checkin), so the agents' frequent
distributed/read costs no SQL and no extra Redis call. A query stays pending until the host
answers or the campaign ends; an agent that restarts before answering is simply asked again.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from collector.distributed import QueryResult, ReadWork, register_prefetched_read_provider, register_write_handler
from fleetweb.redis import get_redis
from hosts.node_cache import NodeHost

from .models import Campaign, CampaignHost

PREFIX = "fleetweb_live"
PENDING_KEY = "dq:{host_id}"


def pending_key(host_id: int) -> str:
    return PENDING_KEY.format(host_id=host_id)


def campaign_query_id(campaign_id: int) -> str:
    return f"{PREFIX}_{campaign_id}"


@transaction.atomic
def campaign_launch(
    *, sql: str, host_ids: Iterable[int], ttl_seconds: int = 600, created_by=None, targets_spec=None
) -> Campaign:  # type: ignore[no-untyped-def]
    ids = sorted(set(host_ids))
    campaign = Campaign.objects.create(
        sql=sql,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(seconds=ttl_seconds),
        target_count=len(ids),
        targets_spec=targets_spec or {},
    )
    CampaignHost.objects.bulk_create(
        [CampaignHost(campaign=campaign, host_id=host_id) for host_id in ids], batch_size=1000
    )
    query_id = campaign_query_id(campaign.pk)

    def publish() -> None:
        pipe = get_redis().pipeline(transaction=False)
        for host_id in ids:
            pipe.hset(pending_key(host_id), query_id, sql)
            pipe.expire(pending_key(host_id), ttl_seconds + 60)
        pipe.execute()

    transaction.on_commit(publish)
    return campaign


def campaign_unpublish(campaign: Campaign) -> None:
    query_id = campaign_query_id(campaign.pk)
    host_ids = CampaignHost.objects.filter(campaign=campaign, status=CampaignHost.Status.PENDING).values_list(
        "host_id", flat=True
    )
    pipe = get_redis().pipeline(transaction=False)
    for host_id in host_ids.iterator():
        pipe.hdel(pending_key(host_id), query_id)
    pipe.execute()


@register_prefetched_read_provider(("hash", PENDING_KEY))
def live_work(node: NodeHost, now: float, pending: dict[bytes, bytes]) -> ReadWork:
    return ReadWork(queries={k.decode(): v.decode() for k, v in pending.items()})


def _campaign_id(query_id: str) -> int | None:
    suffix = query_id[len(PREFIX) + 1 :]
    return int(suffix) if suffix.isdigit() else None


@register_write_handler(PREFIX)
def live_results(node: NodeHost, results: list[QueryResult]) -> None:
    """Store each answer (rows, status, error message, stats) on the host's CampaignHost row.

    Only a pending row is updated, so an agent resending a write after a lost reply changes
    nothing. The work leaves the host's pending hash only once the rows are committed.
    """
    now = timezone.now()
    answered = []
    with transaction.atomic():
        for result in results:
            campaign_id = _campaign_id(result.query_id)
            if campaign_id is None:
                continue
            CampaignHost.objects.filter(
                campaign_id=campaign_id, host_id=node.id, status=CampaignHost.Status.PENDING
            ).update(
                status=CampaignHost.Status.SUCCEEDED if result.ok else CampaignHost.Status.FAILED,
                rows=result.rows,
                row_count=len(result.rows),
                error="" if result.ok else (result.message or "query failed"),
                stats=result.stats,
                answered_at=now,
            )
            answered.append(result.query_id)
    if answered:
        transaction.on_commit(lambda: get_redis().hdel(pending_key(node.id), *answered))
