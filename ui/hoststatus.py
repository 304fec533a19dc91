"""Online / offline / missing / new, computed from last_seen_at so it can filter in SQL.

A host is online when it checked in within the longest of its check-in intervals plus a minute
of slack (the rule Fleet uses), missing after 30 days without a check-in, new for a day after
its first enrollment.
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from fleetweb.conf import fleet_setting

STATUSES = ("online", "offline", "missing", "new")
MISSING_AFTER = timedelta(days=30)
NEW_FOR = timedelta(days=1)


def online_window() -> timedelta:
    longest = max(int(fleet_setting("AGENT_DISTRIBUTED_INTERVAL")), int(fleet_setting("AGENT_CONFIG_REFRESH")))
    return timedelta(seconds=longest + 60)


def status_filter(status: str, now: datetime | None = None) -> Q:
    now = now or timezone.now()
    if status == "online":
        return Q(last_seen_at__gte=now - online_window())
    if status == "offline":
        return (Q(last_seen_at__lt=now - online_window()) & Q(last_seen_at__gte=now - MISSING_AFTER)) | Q(
            last_seen_at__isnull=True, enrolled_at__gte=now - MISSING_AFTER
        )
    if status == "missing":
        return Q(last_seen_at__lt=now - MISSING_AFTER) | Q(last_seen_at__isnull=True, enrolled_at__lt=now - MISSING_AFTER)
    if status == "new":
        return Q(enrolled_at__gte=now - NEW_FOR)
    raise ValueError(f"unknown host status {status!r}")


def host_status(last_seen_at: datetime | None, enrolled_at: datetime | None = None, now: datetime | None = None) -> str:
    """One of online, offline, missing (new is a flag, shown beside the status)."""
    now = now or timezone.now()
    if last_seen_at is not None and last_seen_at >= now - online_window():
        return "online"
    reference = last_seen_at or enrolled_at
    if reference is not None and reference < now - MISSING_AFTER:
        return "missing"
    return "offline"
