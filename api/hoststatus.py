"""Host status as Fleet reports it: online, offline, mia (missing in action) or new.

A host is online when it checked in within its distributed/config interval plus a minute of
grace, "mia" after 30 days of silence, and "new" (a filter, not a status) for 24 hours after
its first enroll. The freshest check-in time is in Redis (hosts.presence) until it is flushed to
the database, so single-host views read it from there.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from fleetweb.conf import fleet_setting
from fleetweb.redis import get_redis
from hosts.models import Host

MIA_AFTER = timedelta(days=30)
NEW_FOR = timedelta(days=1)
STATUSES = ("online", "offline", "mia", "missing", "new")


def online_window() -> timedelta:
    interval = max(fleet_setting("AGENT_DISTRIBUTED_INTERVAL"), fleet_setting("AGENT_CONFIG_REFRESH"))
    return timedelta(seconds=interval + 60)


def seen_times(host_ids: list[int]) -> dict[int, datetime]:
    """Check-in times still waiting in Redis, newer than the database's."""
    if not host_ids:
        return {}
    try:
        values = get_redis().hmget("lastseen", [str(i) for i in host_ids])
    except RedisError:
        return {}
    return {
        host_id: datetime.fromtimestamp(int(value), tz=UTC)
        for host_id, value in zip(host_ids, values, strict=True)
        if value
    }


def last_seen(host: Host, pending: dict[int, datetime] | None = None) -> datetime | None:
    fresh = (pending or {}).get(host.pk)
    if fresh and (host.last_seen_at is None or fresh > host.last_seen_at):
        return fresh
    return host.last_seen_at


def host_status(seen: datetime | None, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if seen is None or now - seen > MIA_AFTER:
        return "mia"
    return "online" if now - seen <= online_window() else "offline"


def filter_status(qs: "QuerySet[Host]", status: str) -> "QuerySet[Host]":
    now = timezone.now()
    if status == "online":
        return qs.filter(last_seen_at__gte=now - online_window())
    if status == "offline":
        return qs.filter(last_seen_at__lt=now - online_window(), last_seen_at__gte=now - MIA_AFTER)
    if status in ("mia", "missing"):
        return qs.filter(Q(last_seen_at__lt=now - MIA_AFTER) | Q(last_seen_at__isnull=True))
    if status == "new":
        return qs.filter(enrolled_at__gte=now - NEW_FOR)
    raise ValueError(status)
