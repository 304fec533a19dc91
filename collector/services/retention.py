"""Retention: delete what is no longer needed in bounded chunks, so a prune never holds long
locks or a huge transaction. Each call deletes at most one chunk per kind; the task repeats."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from fleetweb.conf import fleet_setting

from ..models import Destination, LogBatch, OutboxEvent, QueryReportRow, StatusLogLine, ThrottleBucket


def _delete_chunk(queryset: Any, chunk: int) -> int:
    ids = list(queryset.order_by("id").values_list("id", flat=True)[:chunk])
    if not ids:
        return 0
    deleted, _ = queryset.model.objects.filter(id__in=ids).delete()
    return int(deleted)


def collector_prune_chunk() -> dict[str, int]:
    """Delete one chunk of each expired kind; returns rows deleted per kind."""
    now = timezone.now()
    chunk: int = fleet_setting("RETENTION_CHUNK")
    deleted = {
        "delivered": _delete_chunk(
            OutboxEvent.objects.filter(
                state=OutboxEvent.State.DELIVERED,
                delivered_at__lt=now - timedelta(hours=fleet_setting("RETENTION_DELIVERED_HOURS")),
            ),
            chunk,
        ),
        "dead": _delete_chunk(
            OutboxEvent.objects.filter(
                state=OutboxEvent.State.DEAD, created_at__lt=now - timedelta(days=fleet_setting("RETENTION_DEAD_DAYS"))
            ),
            chunk,
        ),
        # Only batches already parsed into the outbox; unparsed ones are still owed to the SIEM.
        "batches": _delete_chunk(
            LogBatch.objects.filter(
                processed_at__isnull=False,
                received_at__lt=now - timedelta(days=fleet_setting("RETENTION_BATCH_DAYS")),
            ),
            chunk,
        ),
        "report_rows": _delete_chunk(
            QueryReportRow.objects.filter(stored_at__lt=now - timedelta(days=fleet_setting("RETENTION_REPORT_DAYS"))),
            chunk,
        ),
        "status_lines": _delete_chunk(
            StatusLogLine.objects.filter(stored_at__lt=now - timedelta(days=fleet_setting("RETENTION_REPORT_DAYS"))),
            chunk,
        ),
        "throttle_buckets": 0,
    }
    # Buckets only matter while events of their interval can still arrive: keep two days.
    horizon = now.timestamp() - 2 * 86400
    for destination_id, interval in Destination.objects.values_list("id", "throttle_interval_seconds"):
        deleted["throttle_buckets"] += _delete_chunk(
            ThrottleBucket.objects.filter(destination_id=destination_id, bucket__lt=int(horizon // max(1, interval))),
            chunk,
        )
    return deleted
