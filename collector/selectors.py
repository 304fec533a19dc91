"""Reads for the collector status page, metrics and the UI."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from .models import Destination, LogBatch, OutboxEvent, QueryReportRow, StatusLogLine, ThrottleDrop


@dataclass
class DestinationStatus:
    destination: Destination
    pending: int
    delivered: int
    dead: int
    oldest_pending_age: float | None
    throttle_dropped: int
    top_drops: list[tuple[str, int]] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        d = self.destination
        return d.enabled and d.consecutive_failures == 0 and self.dead == 0


def collector_status(*, top_keys: int = 10) -> dict[str, Any]:
    """Per-destination queue sizes, health and throttle drops, plus intake backlog."""
    now = timezone.now()
    counts = {
        row["destination_id"]: row
        for row in OutboxEvent.objects.values("destination_id").annotate(
            pending=Count("id", filter=Q(state=OutboxEvent.State.PENDING)),
            delivered=Count("id", filter=Q(state=OutboxEvent.State.DELIVERED)),
            dead=Count("id", filter=Q(state=OutboxEvent.State.DEAD)),
            oldest=Min("created_at", filter=Q(state=OutboxEvent.State.PENDING)),
        )
    }
    drops: dict[int, list[tuple[str, int]]] = {}
    for drop in ThrottleDrop.objects.order_by("destination_id", "-count"):
        drops.setdefault(drop.destination_id, []).append((drop.key, drop.count))
    statuses = []
    for destination in Destination.objects.all():
        row = counts.get(destination.pk, {})
        oldest = row.get("oldest")
        dest_drops = drops.get(destination.pk, [])
        statuses.append(
            DestinationStatus(
                destination=destination,
                pending=row.get("pending", 0),
                delivered=row.get("delivered", 0),
                dead=row.get("dead", 0),
                oldest_pending_age=(now - oldest).total_seconds() if oldest else None,
                throttle_dropped=sum(n for _, n in dest_drops),
                top_drops=dest_drops[:top_keys],
            )
        )
    batches = LogBatch.objects.aggregate(
        unprocessed=Count("id", filter=Q(processed_at__isnull=True)),
        lines_unprocessed=Sum("line_count", filter=Q(processed_at__isnull=True)),
    )
    return {
        "destinations": statuses,
        "batches_unprocessed": batches["unprocessed"] or 0,
        "lines_unprocessed": batches["lines_unprocessed"] or 0,
        "status_errors": StatusLogLine.objects.filter(severity__gte=2).count(),
        "denylisted": StatusLogLine.objects.filter(denylisted=True).count(),
    }


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def collector_metrics_text() -> str:
    """The status in Prometheus text format (each metric's samples grouped under its TYPE line)."""
    status = collector_status(top_keys=50)
    events, drops, failures = [], [], []
    for s in status["destinations"]:
        name = _label(s.destination.name)
        for state in ("pending", "delivered", "dead"):
            events.append(f'fleetweb_collector_events{{destination="{name}",state="{state}"}} {getattr(s, state)}')
        for key, count in s.top_drops:
            drops.append(f'fleetweb_collector_throttle_dropped{{destination="{name}",key="{_label(key)}"}} {count}')
        failures.append(
            f'fleetweb_collector_destination_failures{{destination="{name}"}} {s.destination.consecutive_failures}'
        )
    lines = [
        "# TYPE fleetweb_collector_events gauge",
        *events,
        "# HELP fleetweb_collector_throttle_dropped Events dropped by the throttle, per destination and key.",
        "# TYPE fleetweb_collector_throttle_dropped gauge",
        *drops,
        "# TYPE fleetweb_collector_destination_failures gauge",
        *failures,
        "# TYPE fleetweb_collector_batches_unprocessed gauge",
        f"fleetweb_collector_batches_unprocessed {status['batches_unprocessed']}",
        "# TYPE fleetweb_collector_lines_unprocessed gauge",
        f"fleetweb_collector_lines_unprocessed {status['lines_unprocessed']}",
    ]
    return "\n".join(lines) + "\n"


def query_reports_for_host(*, host_id: int) -> dict[str, list[QueryReportRow]]:
    """The latest stored rows of each query for one host, by logged query name."""
    reports: dict[str, list[QueryReportRow]] = {}
    for row in QueryReportRow.objects.filter(host_id=host_id).order_by("name", "id"):
        reports.setdefault(row.name, []).append(row)
    return reports


def status_lines_for_host(
    *, host_id: int, min_severity: int = 0, denylisted_only: bool = False, limit: int = 200
) -> list[StatusLogLine]:
    lines = StatusLogLine.objects.filter(host_id=host_id, severity__gte=min_severity)
    if denylisted_only:
        lines = lines.filter(denylisted=True)
    return list(lines.order_by("-id")[:limit])
