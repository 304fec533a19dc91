"""SQL filters for host status, for lists and counts over many hosts.

The rules are hosts.status's (online, offline, missing, and "new" as a flag); per-host display uses
hosts.status itself, which also reads unflushed check-ins from Redis. Filtering thousands of rows
has to happen in SQL, so here the database's last_seen_at and the intervals fleetweb serves are
used; a check-in younger than the last flush (seconds) can lag behind.
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from fleetweb.conf import fleet_setting
from hosts.status import MISSING_AFTER, NEW_FOR, ONLINE_BUFFER

STATUSES = ("online", "offline", "missing", "new")


def online_window() -> timedelta:
    intervals = [int(fleet_setting("AGENT_DISTRIBUTED_INTERVAL")), int(fleet_setting("AGENT_CONFIG_REFRESH"))]
    return timedelta(seconds=min(i for i in intervals if i > 0)) + ONLINE_BUFFER


def status_filter(status: str, now: datetime | None = None) -> Q:
    now = now or timezone.now()
    if status == "online":
        return Q(last_seen_at__gte=now - online_window())
    if status == "offline":
        return Q(last_seen_at__lt=now - online_window(), last_seen_at__gt=now - MISSING_AFTER) | Q(
            last_seen_at__isnull=True
        )
    if status == "missing":
        return Q(last_seen_at__lte=now - MISSING_AFTER)
    if status == "new":
        return Q(enrolled_at__gt=now - NEW_FOR)
    raise ValueError(f"unknown host status {status!r}")
