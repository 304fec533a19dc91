"""Operator actions and reports on host inventory."""

from typing import Any

from django.db.models import Count, Max, Sum

from ..models import Host
from .due import due_now
from .models import HostQueryStat


def host_refetch(*, host: Host) -> None:
    """Ask the host for its vitals, labels and policies at its next check-in."""
    due_now([host.pk])


def host_config_applied(host: Host) -> bool | None:
    """Whether the agent runs the config we last served it (osquery_info.config_hash); None until
    both hashes are known."""
    if not host.config_hash_served or not host.config_hash_reported:
        return None
    return host.config_hash_served == host.config_hash_reported


def query_performance() -> list[dict[str, Any]]:
    """Scheduled-query cost across hosts, most expensive first: per-run averages and how many hosts
    have the query denylisted by the watchdog."""
    rows = (
        HostQueryStat.objects.values("name")
        .annotate(
            hosts=Count("host_id"),
            executions=Sum("executions"),
            wall_time_ms=Sum("wall_time_ms"),
            user_time=Sum("user_time"),
            system_time=Sum("system_time"),
            max_average_memory=Max("average_memory"),
            denylisted_hosts=Sum("denylisted"),
        )
        .order_by()
    )
    report = []
    for row in rows:
        runs = row["executions"] or 0
        report.append(
            {
                "name": row["name"],
                "hosts": row["hosts"],
                "executions": runs,
                "avg_wall_time_ms": round(row["wall_time_ms"] / runs, 1) if runs else 0.0,
                "avg_user_time_ms": round(row["user_time"] / runs, 1) if runs else 0.0,
                "avg_system_time_ms": round(row["system_time"] / runs, 1) if runs else 0.0,
                "max_average_memory": row["max_average_memory"] or 0,
                "denylisted_hosts": int(row["denylisted_hosts"] or 0),
            }
        )
    report.sort(key=lambda r: (-r["denylisted_hosts"], -(r["avg_user_time_ms"] + r["avg_system_time_ms"])))
    return report
