"""Host status (online, offline, missing) and the "new" flag, computed the way Fleet defines them.

Online: seen within min(distributed_interval, config_tls_refresh) + 60 s. logger_tls_period is
deliberately left out: using it made hosts flap (kolide#1419). Missing: not seen for 30 days.
New: enrolled within the last 24 hours, independent of the other three. Intervals are the ones
the host reported through the `osquery_flags` detail query, else the ones we serve in flags files.

"Seen" is the freshest of the database column and the not-yet-flushed Redis batch
(hosts.presence), so status does not lag behind the flush.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from fleetweb.conf import fleet_setting
from fleetweb.redis import get_redis

from . import presence
from .models import Host

ONLINE_BUFFER = timedelta(seconds=60)
MISSING_AFTER = timedelta(days=30)
NEW_FOR = timedelta(hours=24)


class HostStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    MISSING = "missing"


def _check_in_interval(distributed_interval: int | None, config_refresh: int | None) -> timedelta:
    values = [v for v in (distributed_interval, config_refresh) if v and v > 0]
    if not values:
        values = [fleet_setting("AGENT_DISTRIBUTED_INTERVAL"), fleet_setting("AGENT_CONFIG_REFRESH")]
    return timedelta(seconds=min(values))


def status_from(
    last_seen: datetime | None,
    now: datetime,
    distributed_interval: int | None = None,
    config_refresh: int | None = None,
) -> HostStatus:
    if last_seen is None:
        return HostStatus.OFFLINE
    if now - last_seen >= MISSING_AFTER:
        return HostStatus.MISSING
    if last_seen + _check_in_interval(distributed_interval, config_refresh) + ONLINE_BUFFER >= now:
        return HostStatus.ONLINE
    return HostStatus.OFFLINE


def host_last_seen(hosts: Iterable[Host]) -> dict[int, datetime | None]:
    """Each host's freshest last-seen time: the database value or the unflushed Redis one."""
    hosts = list(hosts)
    if not hosts:
        return {}
    pending = get_redis().hmget(presence.HASH, [str(h.pk) for h in hosts])
    seen: dict[int, datetime | None] = {}
    for host, ts in zip(hosts, pending, strict=True):
        candidates = [d for d in (host.last_seen_at, datetime.fromtimestamp(int(ts), tz=UTC) if ts else None) if d]
        seen[host.pk] = max(candidates) if candidates else None
    return seen


def host_statuses(hosts: Iterable[Host], now: datetime) -> dict[int, HostStatus]:
    """Status per host id, in one Redis round trip and one query for the reported intervals."""
    from .inventory.models import HostDetails

    hosts = list(hosts)
    seen = host_last_seen(hosts)
    intervals = dict(
        (row[0], row[1:])
        for row in HostDetails.objects.filter(host_id__in=[h.pk for h in hosts]).values_list(
            "host_id", "distributed_interval", "config_tls_refresh"
        )
    )
    return {h.pk: status_from(seen[h.pk], now, *intervals.get(h.pk, (None, None))) for h in hosts}


def host_status(host: Host, now: datetime) -> HostStatus:
    return host_statuses([host], now)[host.pk]


def host_is_new(host: Host, now: datetime) -> bool:
    return now - host.enrolled_at < NEW_FOR


def host_status_summary(now: datetime, hosts: Iterable[Host] | None = None) -> dict[str, int]:
    """Counts for a dashboard: online, offline, missing (each host in exactly one), plus new."""
    hosts = list(Host.objects.all() if hosts is None else hosts)
    counts = dict.fromkeys((s.value for s in HostStatus), 0)
    for status in host_statuses(hosts, now).values():
        counts[status.value] += 1
    counts["new"] = sum(1 for h in hosts if host_is_new(h, now))
    counts["total"] = len(hosts)
    return counts
