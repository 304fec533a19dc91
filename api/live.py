"""The REST API's bridge to live queries, policies and host inventory.

Views call these functions instead of reaching into several apps, so the API's JSON shapes stay
in one place while the underlying services evolve.
"""

import time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from accounts.services import activity_record
from fleetweb.conf import fleet_setting
from fleetweb.redis import get_redis
from hosts.models import Host
from queries import live as live_queries
from queries.models import Campaign, CampaignHost, Policy

from .hoststatus import host_status, last_seen, seen_times


class HostPolicyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(source="sql")
    description = serializers.CharField()
    resolution = serializers.CharField()
    platform = serializers.CharField()
    critical = serializers.BooleanField()
    response = serializers.CharField()


HOST_POLICIES_RESPONSE = inline_serializer("HostPolicies", {"policies": HostPolicyOut(many=True)})
HOST_SOFTWARE_RESPONSE = inline_serializer(
    "HostSoftware",
    {"software": serializers.ListField(child=serializers.DictField()), "meta": serializers.DictField()},
)
HOST_USERS_RESPONSE = inline_serializer("HostUsers", {"users": serializers.ListField(child=serializers.DictField())})


def _applies(policy: Policy, host: Host) -> bool:
    platforms = [p.strip() for p in policy.platform.split(",") if p.strip()]
    return not platforms or host.platform in platforms


def host_policies(host: Host) -> list[Policy]:
    """Policies that apply to the host, each with `response` "pass", "fail" or "" (no answer)."""
    policies = [p for p in Policy.objects.order_by("name") if _applies(p, host)]
    for policy in policies:
        policy.response = ""  # type: ignore[attr-defined]
    return policies


def host_inventory(host: Host) -> dict[str, Any]:
    """Extra host detail sections (software, users) once inventory is collected."""
    return {}


def host_software(host: Host) -> list[dict[str, Any]]:
    return []


def host_users(host: Host) -> list[dict[str, Any]]:
    return []


def filter_policy_response(request: Request, qs: "QuerySet[Host]") -> "QuerySet[Host]":
    return qs


def filter_software(request: Request, qs: "QuerySet[Host]") -> "QuerySet[Host]":
    return qs


def host_refetch(host: Host) -> None:
    """Ask the host to re-run its vitals queries at its next check-in."""
    get_redis().set(f"refetch:{host.pk}", "1", ex=24 * 3600)


def host_deleted_activity(*, actor: Any, host: Host) -> None:
    activity_record(actor=actor, action="deleted_host", details={"host_id": host.pk, "host_display_name": str(host)})


def hosts_query_sync(*, hosts: list[Host], sql: str, user: Any, query: Any = None) -> list[dict[str, Any]]:
    """Run SQL on `hosts` and wait (FLEET_LIVE_QUERY_REST_PERIOD seconds at most) for answers.

    Returns one `{host_id, responded, rows, error}` per host, in the order given."""
    timeout = float(fleet_setting("LIVE_QUERY_REST_PERIOD"))
    ids = [h.pk for h in hosts]
    campaign = live_queries.campaign_launch(
        sql=sql, host_ids=ids, ttl_seconds=int(timeout) + 60, created_by=user, targets_spec={"hosts": ids}
    )
    if query is not None:
        Campaign.objects.filter(pk=campaign.pk).update(query=query)
    activity_record(
        actor=user,
        action="live_query",
        details={"campaign_id": campaign.pk, "query_sql": sql, "targets_count": len(ids)},
    )
    deadline = time.monotonic() + timeout
    answers: dict[int, CampaignHost] = {}
    while True:
        answers = {
            ch.host_id: ch
            for ch in CampaignHost.objects.filter(campaign=campaign).exclude(status=CampaignHost.Status.PENDING)
        }
        # Polling the database keeps this independent of the result transport; the interval
        # is short next to the agents' own distributed_interval.
        if len(answers) >= len(ids) or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    live_queries.campaign_unpublish(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.COMPLETED)
    out = []
    for host_id in ids:
        answer = answers.get(host_id)
        if answer is None:
            out.append(
                {
                    "host_id": host_id,
                    "responded": False,
                    "rows": [],
                    "error": f"timeout waiting for results after {timeout:g} s",
                }
            )
        else:
            out.append({"host_id": host_id, "responded": True, "rows": answer.rows, "error": answer.error or None})
    return out


def host_query_sync(*, host: Host, sql: str, user: Any) -> dict[str, Any]:
    """Fleet's POST /hosts/{id}/query: run SQL on one host and wait for its answer. An offline
    host is not asked; the reply says so at once, as Fleet's does."""
    status = host_status(last_seen(host, seen_times([host.pk])))
    reply: dict[str, Any] = {"host_id": host.pk, "query": sql, "status": status, "error": None, "rows": []}
    if status != "online":
        reply["status"] = "offline"
        reply["error"] = "the host is offline; it was not queried"
        return reply
    result = hosts_query_sync(hosts=[host], sql=sql, user=user)[0]
    reply["rows"] = result["rows"]
    reply["error"] = result["error"]
    return reply


# ---- campaigns (fleetctl query) -----------------------------------------------------------------


def campaign_create(*, sql: str, host_ids: set[int], user: Any, targets_spec: dict[str, Any]) -> Campaign:
    campaign = live_queries.campaign_launch(
        sql=sql, host_ids=host_ids, created_by=user, targets_spec=targets_spec, ttl_seconds=24 * 3600
    )
    activity_record(
        actor=user,
        action="live_query",
        details={"campaign_id": campaign.pk, "query_sql": sql, "targets_count": len(host_ids)},
    )
    return campaign


def campaign_results(campaign: Campaign, offset: int) -> list[dict[str, Any]]:
    answered = (
        CampaignHost.objects.filter(campaign=campaign, answered_at__isnull=False)
        .select_related("host")
        .order_by("answered_at", "id")[max(0, offset) :]
    )
    return [
        {
            "host": {
                "id": ch.host_id,
                "hostname": ch.host.hostname,
                "display_name": ch.host.computer_name or ch.host.hostname,
            },
            "rows": ch.rows,
            "error": ch.error or None,
            "status": ch.status,
        }
        for ch in answered
    ]


def campaign_totals(campaign: Campaign) -> dict[str, Any]:
    hosts = list(Host.objects.filter(campaign_results__campaign=campaign))
    seen = seen_times([h.pk for h in hosts])
    statuses = [host_status(last_seen(h, seen)) for h in hosts]
    answered = CampaignHost.objects.filter(campaign=campaign).exclude(status="pending")
    failed = answered.filter(status="failed").count()
    responded = answered.count()
    status = campaign.status
    if status == Campaign.Status.RUNNING and campaign.expires_at <= timezone.now():
        status = Campaign.Status.EXPIRED
    return {
        "count": len(hosts),
        "online": statuses.count("online"),
        "offline": statuses.count("offline"),
        "missing_in_action": statuses.count("mia"),
        "responded": responded,
        "failed": failed,
        "pending": len(hosts) - responded,
        "campaign_status": status,
    }


def campaign_stop(*, campaign: Campaign, user: Any) -> None:
    if campaign.status == Campaign.Status.RUNNING:
        live_queries.campaign_unpublish(campaign)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.STOPPED)


def host_ids_for_labels(labels: list[Any]) -> set[int]:
    from .serializers import label_hosts

    ids: set[int] = set()
    for label in labels:
        ids.update(label_hosts(label).values_list("pk", flat=True))
    return ids
