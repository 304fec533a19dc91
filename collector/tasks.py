"""Celery tasks of the collector: thin wrappers that take ids and call services."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from fleetweb.conf import fleet_setting
from fleetweb.redis import get_redis

from .services import forwarding, retention
from .services.carves import carve_expire
from .services.logs import on_batch_stored

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=None, acks_late=True)
def log_batch_forward_task(self, batch_id: int) -> None:  # type: ignore[no-untyped-def]
    try:
        forwarding.log_batch_forward(batch_id=batch_id)
    except DatabaseError as exc:
        # Deadlocks between concurrent throttle upserts and a database that is briefly away.
        raise self.retry(exc=exc, countdown=2) from exc


@shared_task(acks_late=True)
def destination_deliver_task(destination_id: int, flush: bool = False) -> None:
    report = forwarding.destination_deliver(destination_id=destination_id, flush=flush)
    # Eager mode (tests, embedded) runs tasks inline: a countdown would not wait, so leave the
    # next run to the sweep instead of looping.
    if report.next_run_in is not None and not settings.CELERY_TASK_ALWAYS_EAGER:
        destination_deliver_task.apply_async((destination_id,), countdown=max(0.0, report.next_run_in))


@shared_task(ignore_result=True)
def carve_expire_task() -> int:
    """Delete carved archives older than CARVE_RETENTION_DAYS."""
    return carve_expire()


@shared_task
def collector_sweep_task() -> None:
    """Re-queue work whose task was lost: batches never parsed, destinations with pending events."""
    for batch_id in forwarding.batches_to_forward(fleet_setting("FORWARD_STALE_SECONDS")):
        log_batch_forward_task.delay(batch_id)
    for destination_id in forwarding.destinations_with_pending():
        destination_deliver_task.delay(destination_id)


@shared_task
def collector_prune_task() -> None:
    deleted = retention.collector_prune_chunk()
    chunk = fleet_setting("RETENTION_CHUNK")
    if any(count >= chunk for count in deleted.values()) and not settings.CELERY_TASK_ALWAYS_EAGER:
        collector_prune_task.apply_async(countdown=1)


@shared_task(ignore_result=True)
def forward_new_batches_task() -> int:
    """Queue forwarding for batches stored since the last run: one task per host, for its newest
    batch (which forwards the host's earlier ones first). Returns how many tasks were queued."""
    redis = get_redis()
    redis.delete(_FORWARD_SCHEDULED)  # batches stored from now on schedule the next run
    queued = 0
    for batch_id in forwarding.newest_unforwarded_batch_per_host():
        log_batch_forward_task.delay(batch_id)
        queued += 1
    return queued


# Set while a forward_new_batches_task is queued: intake publishes at most one task per
# FORWARD_COALESCE_MS instead of one per agent POST, which keeps the broker off the hot path.
_FORWARD_SCHEDULED = "fwd:scheduled"


def _enqueue_forward(batch_id: int) -> None:
    # Runs after intake committed: a broker failure here must not turn into an agent error (the
    # lines are safe in the database and the sweep will parse them).
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            log_batch_forward_task.delay(batch_id)  # inline: forward this batch now
            return
        coalesce_ms = fleet_setting("FORWARD_COALESCE_MS")
        if get_redis().set(_FORWARD_SCHEDULED, 1, nx=True, px=max(coalesce_ms * 10, 5000)):
            forward_new_batches_task.apply_async(countdown=coalesce_ms / 1000)
    except Exception:
        log.exception("could not enqueue forwarding of log batch %s; the sweep will", batch_id)


def _enqueue_delivery(destination_id: int, countdown: float) -> None:
    try:
        if countdown > 0:
            destination_deliver_task.apply_async((destination_id,), countdown=countdown)
        else:
            destination_deliver_task.delay(destination_id)
    except (RedisError, OSError):
        log.exception("could not enqueue delivery for destination %s; the sweep will", destination_id)


on_batch_stored(_enqueue_forward)
forwarding._schedule_delivery.append(_enqueue_delivery)
