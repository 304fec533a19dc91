"""Reads behind the analyst pages. Each returns what one page needs in a fixed, small number of
SQL queries whatever the number of hosts (the hosts list test asserts the count)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncHour, TruncMinute
from django.utils import timezone

from accounts.models import Activity
from collector.models import LogBatch
from hosts.models import Host, Platform
from queries.models import Label
from queries.targets import label_members_q

from .hoststatus import status_filter

HOST_SORT_COLUMNS = {
    "hostname": ("hostname",),
    "last_seen": ("last_seen_at",),
    "platform": ("platform", "hostname"),
    "os": ("os_name", "os_version"),
    "osquery": ("osquery_version",),
}
# "name" sorts ascending, "-name" descending; the id keeps pages stable.
HOST_SORTS = {
    **{key: (*fields, "id") for key, fields in HOST_SORT_COLUMNS.items()},
    **{f"-{key}": (*(f"-{f}" for f in fields), "-id") for key, fields in HOST_SORT_COLUMNS.items()},
}


@dataclass
class HostFilters:
    q: str = ""
    status: str = ""
    platform: str = ""
    label: int | None = None
    sort: str = "hostname"

    def next_sort(self, column: str) -> str:
        """The sort a column header links to: flips the direction when already sorted by it."""
        return f"-{column}" if self.sort == column else column

    @property
    def sort_links(self) -> dict[str, str]:
        return {column: self.next_sort(column) for column in HOST_SORT_COLUMNS}

    @classmethod
    def from_params(cls, params: Any) -> "HostFilters":
        label = params.get("label", "")
        status = params.get("status", "")
        platform = params.get("platform", "")
        sort = params.get("sort", "hostname")
        return cls(
            q=params.get("q", "").strip()[:255],
            status=status if status in ("online", "offline", "missing", "new") else "",
            platform=platform if platform in Platform.values else "",
            label=int(label) if label.isdigit() else None,
            sort=sort if sort in HOST_SORTS else "hostname",
        )


def host_search_filter(q: str) -> Q:
    """Hostname anywhere; UUID, serial, IP and identifier by prefix, which their indexes serve."""
    return (
        Q(hostname__icontains=q)
        | Q(computer_name__icontains=q)
        | Q(uuid__istartswith=q)
        | Q(hardware_serial__istartswith=q)
        | Q(primary_ip__startswith=q)
        | Q(host_identifier__istartswith=q)
    )


def host_list(filters: HostFilters) -> "QuerySet[Host]":
    hosts = Host.objects.all()
    if filters.q:
        hosts = hosts.filter(host_search_filter(filters.q))
    if filters.status:
        hosts = hosts.filter(status_filter(filters.status))
    if filters.platform:
        hosts = hosts.filter(platform=filters.platform)
    if filters.label:
        hosts = hosts.filter(label_members_q(filters.label))
    # Labels for the whole page arrive in one extra query.
    return (
        hosts.order_by(*HOST_SORTS[filters.sort])
        .select_related("enroll_secret")
        .prefetch_related("labels")
        .defer("config_hash_served", "config_hash_reported", "node_key_hash")
    )


def host_status_counts(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    totals = Host.objects.aggregate(
        total=Count("id"),
        online=Count("id", filter=status_filter("online", now)),
        offline=Count("id", filter=status_filter("offline", now)),
        missing=Count("id", filter=status_filter("missing", now)),
        new=Count("id", filter=status_filter("new", now)),
    )
    return {key: value or 0 for key, value in totals.items()}


def host_platform_counts() -> list[dict[str, Any]]:
    labels = dict(Platform.choices)
    rows = Host.objects.values("platform").annotate(n=Count("id")).order_by("-n")
    return [
        {"platform": row["platform"], "label": labels.get(row["platform"], row["platform"]), "n": row["n"]}
        for row in rows
    ]


def label_choices() -> list[tuple[int, str]]:
    return list(Label.objects.order_by("name").values_list("id", "name"))


def _series(buckets: dict[datetime, int], start: datetime, step: timedelta, count: int) -> list[tuple[datetime, int]]:
    return [(start + step * i, buckets.get(start + step * i, 0)) for i in range(count)]


def events_per_minute(minutes: int = 60, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Log lines received per minute (results and status), oldest first, zeros filled in."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=minutes - 1)
    rows = (
        LogBatch.objects.filter(received_at__gte=start)
        .annotate(minute=TruncMinute("received_at"))
        .values("minute")
        .annotate(lines=Sum("line_count"))
    )
    return _series({row["minute"]: row["lines"] or 0 for row in rows}, start, timedelta(minutes=1), minutes)


def hosts_seen_per_hour(hours: int = 24, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Distinct hosts that sent logs in each hour, oldest first."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=hours - 1)
    rows = (
        LogBatch.objects.filter(received_at__gte=start)
        .annotate(hour=TruncHour("received_at"))
        .values("hour")
        .annotate(hosts=Count("host_id", distinct=True))
    )
    return _series({row["hour"]: row["hosts"] for row in rows}, start, timedelta(hours=1), hours)


def intake_backlog() -> dict[str, int]:
    """Log batches stored but not yet processed by the forwarding pipeline."""
    totals = LogBatch.objects.filter(processed_at__isnull=True).aggregate(batches=Count("id"), lines=Sum("line_count"))
    return {"batches": totals["batches"] or 0, "lines": totals["lines"] or 0}


def recent_activity(limit: int = 10) -> list[Activity]:
    return list(Activity.objects.select_related("actor").order_by("-created_at", "-id")[:limit])


def policy_failures(limit: int = 10) -> list[dict[str, Any]]:
    """Policies with the most failing hosts."""
    from queries.models import PolicyResult

    rows = (
        PolicyResult.objects.filter(passes=False)
        .values("policy_id", "policy__name", "policy__critical")
        .annotate(failing=Count("host_id"))
        .order_by("-failing", "policy__name")[:limit]
    )
    return [
        {"id": r["policy_id"], "name": r["policy__name"], "critical": r["policy__critical"], "failing": r["failing"]}
        for r in rows
    ]


def collector_totals() -> dict[str, int]:
    """Outbox state across destinations and events dropped by throttles, for the dashboard."""
    from collector.models import OutboxEvent, ThrottleDrop

    outbox = OutboxEvent.objects.aggregate(
        pending=Count("id", filter=Q(state=OutboxEvent.State.PENDING)),
        dead=Count("id", filter=Q(state=OutboxEvent.State.DEAD)),
    )
    dropped = ThrottleDrop.objects.aggregate(n=Sum("count"))["n"] or 0
    return {"pending": outbox["pending"] or 0, "dead": outbox["dead"] or 0, "dropped": dropped}
