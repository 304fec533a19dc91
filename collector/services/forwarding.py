"""From a stored LogBatch to events delivered at every destination.

1. `log_batch_forward` parses a batch once, in one transaction: it queues an OutboxEvent per
   event and destination (after routing, shaping and the throttle), updates query reports and
   marks the batch processed. A crash before commit leaves the batch unprocessed for the sweep.
2. `destination_deliver` sends a destination's pending events in id order, in batches, and
   records what the receiver accepted. Each destination has its own lock, backoff and health, so
   one that is down or slow never holds up the others. An event is marked delivered only after
   the receiver accepted it: a crash in between resends it with the same event_id.
"""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from fleetweb.conf import fleet_setting
from queries.models import Pack

from ..forwarding import shape
from ..forwarding.enrich import host_inventory
from ..forwarding.parse import Event, parse_batch, raw_events, split_query_name
from ..forwarding.senders import Outgoing, SendResult, sender_for
from ..models import Destination, LogBatch, OutboxEvent
from . import reports
from .bulk import insert_rows
from .delivery_lock import DeliveryLock
from .logs import log_batch_lines
from .throttle import throttle_apply

log = logging.getLogger(__name__)
PENDING, DELIVERED, DEAD = OutboxEvent.State.PENDING, OutboxEvent.State.DELIVERED, OutboxEvent.State.DEAD

# Set by collector.tasks: how to ask for a delivery run (a Celery task) after a commit.
_schedule_delivery: list[Callable[[int, float], None]] = []


def schedule_delivery(destination_id: int, countdown: float = 0.0) -> None:
    for hook in _schedule_delivery:
        hook(destination_id, countdown)


def _throttle_key(destination: Destination, event: Event, host_identifier: str) -> str:
    if destination.throttle_key == Destination.ThrottleKey.HOST:
        return host_identifier
    if destination.throttle_key == Destination.ThrottleKey.QUERY:
        return event.name or f"({event.log_type})"
    return "*"


def _hostname(event: Event, inventory: dict[str, Any] | None, fallback: str) -> str:
    if inventory and inventory.get("hostname"):
        return str(inventory["hostname"])
    for value in (event.decorations.get("hostname"), event.line.get("hostIdentifier"), fallback):
        if isinstance(value, str) and value:
            return value
    return fallback


def _outbox_rows(
    destination: Destination, batch: LogBatch, events: list[Event], inventory: dict[str, Any] | None
) -> list[OutboxEvent]:
    include = shape.patterns(destination.include_queries)
    exclude = shape.patterns(destination.exclude_queries)
    received = batch.received_at.timestamp()
    selected = [e for e in events if shape.routed(e, include=include, exclude=exclude)]
    passed, _ = throttle_apply(
        destination=destination,
        items=selected,
        key_of=lambda e: _throttle_key(destination, e, batch.host_identifier),
        time_of=lambda e: e.unix_time if e.unix_time is not None else received,
    )
    rows = []
    for event in passed:
        try:
            doc = shape.document(event, raw=destination.shape == Destination.Shape.RAW)
        except (TypeError, ValueError, OverflowError) as exc:
            # A line no shaping rule expected must not wedge the host's pipeline: forward it raw.
            log.warning("batch %s: shaping %s failed (%s); forwarding the raw line", batch.pk, event.event_id, exc)
            doc = shape.document(event, raw=True)
        if destination.enrich and inventory is not None:
            # A copy per event: drop and mask rules may also apply to host fields.
            doc["host"] = dict(inventory)
        shape.drop_fields(doc, destination.drop_fields or [])
        shape.mask_fields(doc, destination.mask_fields or [])
        body = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
        severity = doc.get("severity")
        rows.append(
            OutboxEvent(
                destination=destination,
                event_id=event.event_id,
                batch_id=batch.pk,
                host_id=batch.host_id,
                log_type=event.log_type,
                query_name=event.name[:255],
                hostname=_hostname(event, inventory, batch.host_identifier)[:255],
                severity=severity if isinstance(severity, int) and severity >= 0 else None,
                event_time=event.unix_time if event.unix_time is not None else received,
                body=body,
                size=len(body),
                created_at=batch.received_at,
            )
        )
    return rows


_OUTBOX_COLUMNS = [
    "destination_id",
    "event_id",
    "batch_id",
    "host_id",
    "log_type",
    "query_name",
    "hostname",
    "severity",
    "event_time",
    "body",
    "size",
    "state",
    "attempts",
    "last_error",
    "created_at",
]


def _insert_outbox(rows: list[OutboxEvent]) -> None:
    """Queue the rows, skipping events already queued (a re-run after a crash)."""
    adapt = connection.ops.adapt_datetimefield_value
    values = [
        (
            r.destination_id,
            r.event_id,
            r.batch_id,
            r.host_id,
            r.log_type,
            r.query_name,
            r.hostname,
            r.severity,
            r.event_time,
            r.body,
            r.size,
            r.state,
            r.attempts,
            r.last_error,
            adapt(r.created_at),
        )
        for r in rows
    ]
    insert_rows(OutboxEvent, _OUTBOX_COLUMNS, values, ignore=True)


@transaction.atomic
def log_batch_forward(*, batch_id: int) -> dict[int, int]:
    """Parse a stored batch, and any earlier unparsed batch of the same host first, and queue
    their events; returns events queued per destination id. Idempotent: processed batches are
    skipped.

    Earlier batches of the host are locked in id order, so two workers never queue one host's
    events out of order (the second waits for the first and then finds those batches done).
    """
    head = LogBatch.objects.filter(pk=batch_id).values("host_id", "processed_at").first()
    if head is None or head["processed_at"] is not None:
        return {}
    ids = [batch_id]
    if head["host_id"] is not None:
        ids = list(
            LogBatch.objects.filter(host_id=head["host_id"], id__lte=batch_id, processed_at__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)[:500]
        )
    # Lock by primary key: a range lock on the host's rows would also block intake's next INSERT.
    batches = list(LogBatch.objects.select_for_update().filter(id__in=ids, processed_at__isnull=True).order_by("id"))
    if not batches:
        return {}
    context = _ForwardContext(
        packs=frozenset(Pack.objects.values_list("name", flat=True)),
        delimiters=fleet_setting("PACK_DELIMITERS"),
        destinations=list(Destination.objects.filter(enabled=True)),
    )
    queued: dict[int, int] = {}
    for batch in batches:
        for destination_id, count in _forward_one(batch, context).items():
            queued[destination_id] = queued.get(destination_id, 0) + count
    for destination_id, count in queued.items():
        if count:
            transaction.on_commit(lambda d=destination_id: schedule_delivery(d))  # type: ignore[misc]
    return queued


@dataclass
class _ForwardContext:
    packs: frozenset[str]
    delimiters: str
    destinations: list[Destination]


def _forward_one(batch: LogBatch, context: _ForwardContext) -> dict[int, int]:
    lines = log_batch_lines(batch)
    packs, delimiters = context.packs, context.delimiters
    destinations = [d for d in context.destinations if d.wants(batch.log_type)]
    queued: dict[int, int] = {}
    if destinations:
        rows_events = parse_batch(batch.pk, batch.log_type, lines, packs, delimiters)
        raw: list[Event] | None = None
        inventory = None
        if batch.host_id and any(d.enrich for d in destinations):
            inventory = host_inventory({batch.host_id}).get(batch.host_id)
        outbox: list[OutboxEvent] = []
        for destination in destinations:
            if destination.shape == Destination.Shape.RAW:
                if raw is None:
                    raw = raw_events(batch.pk, batch.log_type, lines)
                    for event in raw:
                        event.pack, event.query = split_query_name(event.name, packs, delimiters)
                events = raw
            else:
                events = rows_events
            rows = _outbox_rows(destination, batch, events, inventory)
            queued[destination.pk] = len(rows)
            outbox.extend(rows)
        _insert_outbox(outbox)
    if batch.host_id:
        if batch.log_type == LogBatch.LogType.RESULT:
            reports.query_reports_store(host_id=batch.host_id, lines=lines, packs=packs, delimiters=delimiters)
        else:
            reports.status_lines_store(host_id=batch.host_id, lines=lines)
    batch.processed_at = timezone.now()
    batch.save(update_fields=["processed_at"])
    return queued


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    batches: int = 0
    locked: bool = False
    next_run_in: float | None = None
    errors: list[str] = field(default_factory=list)


def backoff_seconds(destination: Destination, failures: int) -> float:
    """Exponential backoff with jitter: between half and all of base * 2^(failures-1), capped."""
    ceiling = min(destination.backoff_max_seconds, destination.backoff_base_seconds * 2 ** max(0, failures - 1))
    # Retry jitter, not a secret: bandit's B311 does not apply.
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311  # nosec B311


def _outgoing(row: OutboxEvent) -> Outgoing:
    return Outgoing(
        id=row.pk,
        event_id=row.event_id,
        log_type=row.log_type,
        hostname=row.hostname,
        query_name=row.query_name,
        event_time=row.event_time,
        body=bytes(row.body),
        severity=row.severity,
    )


def _by_error(errors: dict[int, str]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for event_id, error in errors.items():
        grouped.setdefault(error[:2000], []).append(event_id)
    return grouped


@transaction.atomic
def _record(destination: Destination, result: SendResult, report: DeliveryReport) -> None:
    now = timezone.now()
    outbox = OutboxEvent.objects.filter(destination=destination)
    if result.delivered:
        outbox.filter(id__in=result.delivered, state=PENDING).update(
            state=DELIVERED, delivered_at=now, attempts=F("attempts") + 1, last_error=""
        )
    for error, ids in _by_error(result.failed).items():
        outbox.filter(id__in=ids).update(state=DEAD, attempts=F("attempts") + 1, last_error=error)
    for error, ids in _by_error(result.retry).items():
        outbox.filter(id__in=ids).update(attempts=F("attempts") + 1, last_error=error)
    if result.retry:
        report.dead += outbox.filter(
            id__in=list(result.retry), state=PENDING, attempts__gte=destination.max_attempts
        ).update(state=DEAD)
    report.delivered += len(result.delivered)
    report.dead += len(result.failed)
    report.retrying += len(result.retry)
    fields: dict[str, Any] = {}
    if result.retry:
        failures = destination.consecutive_failures + 1
        fields.update(
            consecutive_failures=failures,
            retry_after=now + timedelta(seconds=backoff_seconds(destination, failures)),
        )
    else:
        fields.update(consecutive_failures=0, retry_after=None, last_success_at=now)
    first_error = next(iter(result.retry.values()), None) or next(iter(result.failed.values()), None)
    if first_error:
        fields.update(last_error=first_error[:2000], last_error_at=now)
        report.errors.append(first_error)
    Destination.objects.filter(pk=destination.pk).update(**fields)


def _expire(destination: Destination, batch: list[OutboxEvent], now: Any) -> list[OutboxEvent]:
    """Dead-letter the events of the batch older than the destination's max age; returns the
    rest. Checked on the head of the queue only, so a large backlog costs nothing extra."""
    cutoff = now - timedelta(seconds=destination.max_age_seconds)
    expired = [row.pk for row in batch if row.created_at < cutoff]
    if expired:
        OutboxEvent.objects.filter(id__in=expired, state=PENDING).update(
            state=DEAD, last_error=f"not delivered within {destination.max_age_seconds} s"
        )
    return [row for row in batch if row.created_at >= cutoff]


def _next_batch(destination: Destination) -> tuple[list[OutboxEvent], bool]:
    """The oldest pending events within the count and byte limits, and whether the batch is full."""
    rows = list(
        OutboxEvent.objects.filter(destination=destination, state=PENDING)
        .order_by("id")
        .defer("last_error")[: destination.batch_max_events]
    )
    batch: list[OutboxEvent] = []
    total = 0
    for row in rows:
        if batch and total + row.size > destination.batch_max_bytes:
            return batch, True
        batch.append(row)
        total += row.size
    return batch, len(rows) >= destination.batch_max_events or total >= destination.batch_max_bytes


def destination_deliver(*, destination_id: int, flush: bool = False) -> DeliveryReport:
    """Send what is due for one destination until its queue is empty, it fails, or the time
    budget runs out. `flush` sends a partial batch without waiting for batch_max_wait_seconds."""
    report = DeliveryReport()
    lock_seconds: int = fleet_setting("DELIVERY_LOCK_SECONDS")
    lock = DeliveryLock(destination_id, lock_seconds)
    if not lock.acquire():
        report.locked = True
        return report
    deadline = time.monotonic() + fleet_setting("DELIVERY_TIME_BUDGET_SECONDS")
    sender = None
    try:
        while True:
            destination = Destination.objects.filter(pk=destination_id, enabled=True).first()
            if destination is None:
                break
            now = timezone.now()
            if destination.retry_after and destination.retry_after > now:
                report.next_run_in = (destination.retry_after - now).total_seconds()
                break
            batch, full = _next_batch(destination)
            if not batch:
                break
            fresh = _expire(destination, batch, now)
            if len(fresh) < len(batch):
                report.dead += len(batch) - len(fresh)
                continue
            waited = (now - batch[0].created_at).total_seconds()
            if not (full or flush or waited >= destination.batch_max_wait_seconds):
                report.next_run_in = destination.batch_max_wait_seconds - waited
                break
            if sender is None:
                sender = sender_for(destination)
            result = sender.send([_outgoing(row) for row in batch])
            _record(destination, result, report)
            report.batches += 1
            if result.retry:
                report.next_run_in = backoff_seconds(destination, destination.consecutive_failures + 1)
                break
            if time.monotonic() > deadline:
                report.next_run_in = 0.0
                break
            if not lock.extend():
                log.warning("delivery lock for destination %s expired during delivery", destination_id)
                break
    finally:
        if sender is not None:
            sender.close()
        lock.release()
    return report


def outbox_replay(*, queryset: Any) -> int:
    """Put dead-lettered events back in their destination's queue, as they were."""
    dead = queryset.filter(state=DEAD)
    destination_ids = set(dead.values_list("destination_id", flat=True).distinct())
    # The age limit counts again from the replay.
    count: int = dead.update(state=PENDING, attempts=0, last_error="", created_at=timezone.now())
    Destination.objects.filter(pk__in=destination_ids).update(retry_after=None, consecutive_failures=0)
    for destination_id in destination_ids:
        transaction.on_commit(lambda d=destination_id: schedule_delivery(d))  # type: ignore[misc]
    return count


def destination_send_test(*, destination: Destination) -> SendResult:
    """Send one synthetic event straight to the receiver (not through the queue)."""
    now = time.time()
    body = orjson.dumps(
        {
            "event_id": f"test-{int(now * 1000)}",
            "log_type": "test",
            "name": "fleetweb/test",
            "unixTime": int(now),
            "message": f"Test event from fleetweb for destination {destination.name!r}",
        }
    )
    event = Outgoing(
        id=0,
        event_id=f"test-{int(now * 1000)}",
        log_type="test",
        hostname="fleetweb",
        query_name="fleetweb/test",
        event_time=now,
        body=body,
    )
    with sender_for(destination) as sender:
        result = sender.send([event])
    fields: dict[str, Any] = {}
    error = next(iter(result.retry.values()), None) or next(iter(result.failed.values()), None)
    if error:
        fields.update(last_error=f"test event: {error}"[:2000], last_error_at=timezone.now())
    else:
        fields.update(last_success_at=timezone.now())
    Destination.objects.filter(pk=destination.pk).update(**fields)
    return result


def newest_unforwarded_batch_per_host(limit: int = 5000) -> list[int]:
    """The newest unparsed batch of each host (and every unparsed batch without a host)."""
    pending = LogBatch.objects.filter(processed_at__isnull=True)
    per_host = (
        pending.filter(host_id__isnull=False)
        .values("host_id")
        .annotate(newest=Max("id"))
        .values_list("newest", flat=True)
    )
    hostless = pending.filter(host_id__isnull=True).values_list("id", flat=True)
    return sorted(list(per_host[:limit]) + list(hostless[:limit]))


def batches_to_forward(stale_seconds: int) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    return list(
        LogBatch.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )


def destinations_with_pending() -> list[int]:
    """Enabled destinations with at least one pending event (one indexed probe each)."""
    return [
        destination_id
        for destination_id in Destination.objects.filter(enabled=True).values_list("id", flat=True)
        if OutboxEvent.objects.filter(destination_id=destination_id, state=PENDING).exists()
    ]
