"""The REST API's bridge to live queries, policies and host inventory.

Views call these functions instead of reaching into several apps, so the API's JSON shapes stay
in one place while the services (queries.live, queries.policies, hosts.inventory) do the work.
"""

import hashlib
import time
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from accounts.services import activity_record
from fleetweb.conf import fleet_setting
from hosts.inventory.models import HostSoftware, HostUser
from hosts.inventory.services import host_refetch as inventory_refetch
from hosts.models import Host
from hosts.status import HostStatus, host_statuses
from queries import live as live_queries
from queries.models import Campaign, Policy, PolicyResult

from .errors import ApiError
from .serializers import HostPolicySerializer


class SoftwareOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    source = serializers.CharField()
    bundle_identifier = serializers.CharField(required=False)
    hosts_count = serializers.IntegerField(required=False)
    vulnerabilities = serializers.ListField(child=serializers.DictField(), allow_null=True)


class HostUserOut(serializers.Serializer):
    uid = serializers.IntegerField()
    username = serializers.CharField()
    type = serializers.CharField()
    groupname = serializers.CharField()
    shell = serializers.CharField()
    directory = serializers.CharField()


HOST_POLICIES_RESPONSE = inline_serializer("HostPolicies", {"policies": HostPolicySerializer(many=True)})
HOST_SOFTWARE_RESPONSE = inline_serializer(
    "HostSoftware", {"software": SoftwareOut(many=True), "meta": serializers.DictField()}
)
HOST_USERS_RESPONSE = inline_serializer("HostUsers", {"users": HostUserOut(many=True)})
SOFTWARE_LIST_RESPONSE = inline_serializer(
    "SoftwareList", {"software": SoftwareOut(many=True), "counts_updated_at": serializers.DateTimeField()}
)


# ---- status ----------------------------------------------------------------------------------

STATUSES = ("online", "offline", "mia", "missing", "new")


def statuses_of(hosts: list[Host]) -> dict[int, str]:
    """Fleet's status names per host id: online, offline or mia (missing for 30 days)."""
    now = timezone.now()
    return {
        host_id: "mia" if status == HostStatus.MISSING else status.value
        for host_id, status in host_statuses(hosts, now).items()
    }


def filter_status(qs: "QuerySet[Host]", status: str) -> "QuerySet[Host]":
    if status == "new":
        return qs.filter(enrolled_at__gte=timezone.now() - timedelta(days=1))
    wanted = "mia" if status == "missing" else status
    # Status depends on per-host intervals and on check-ins not yet flushed from Redis, so it is
    # decided by the same code that shows it rather than re-stated in SQL.
    ids = [
        host_id
        for host_id, value in statuses_of(list(qs.select_related(None).only("id", "last_seen_at"))).items()
        if value == wanted
    ]
    return qs.filter(pk__in=ids)


# ---- policies ----------------------------------------------------------------------------------


def _applies(policy: Policy, host: Host) -> bool:
    platforms = [p.strip() for p in policy.platform.split(",") if p.strip()]
    return not platforms or host.platform in platforms


def host_policies(host: Host) -> list[Policy]:
    """Policies that apply to the host, each with `response` "pass", "fail" or ""."""
    answers = dict(PolicyResult.objects.filter(host=host).values_list("policy_id", "passes"))
    policies = [p for p in Policy.objects.order_by("name") if _applies(p, host)]
    for policy in policies:
        passes = answers.get(policy.pk)
        policy.response = "" if passes is None else ("pass" if passes else "fail")  # type: ignore[attr-defined]
    return policies


def policy_counts() -> dict[int, tuple[int, int]]:
    """policy id -> (passing, failing) host counts."""
    rows = PolicyResult.objects.values("policy_id").annotate(
        passing=Count("id", filter=Q(passes=True)), failing=Count("id", filter=Q(passes=False))
    )
    return {row["policy_id"]: (row["passing"], row["failing"]) for row in rows}


def filter_policy_response(request: Request, qs: "QuerySet[Host]") -> "QuerySet[Host]":
    raw_id = request.query_params.get("policy_id")
    response = request.query_params.get("policy_response")
    if not raw_id:
        if response:
            raise ApiError("policy_response needs policy_id", name="policy_response")
        return qs
    if not raw_id.isdigit():
        raise ApiError(f"policy_id must be an integer, got {raw_id!r}", name="policy_id")
    if not Policy.objects.filter(pk=int(raw_id)).exists():
        raise ApiError(f"no policy with id {raw_id}", status_code=404, name="policy_id")
    if response not in (None, "", "passing", "failing"):
        raise ApiError("policy_response must be passing or failing", name="policy_response")
    results = PolicyResult.objects.filter(policy_id=int(raw_id))
    if response:
        results = results.filter(passes=response == "passing")
    return qs.filter(pk__in=results.values("host_id"))


# ---- software and users ----------------------------------------------------------------------


def software_id(name: str, version: str, source: str) -> int:
    """A stable id for one software version: inventory rows are replaced on every refresh, so
    their own ids would change."""
    return int(hashlib.sha256(f"{name}\0{version}\0{source}".encode()).hexdigest()[:12], 16)


def _software_item(name: str, version: str, source: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": software_id(name, version, source),
        "name": name,
        "version": version,
        "source": source,
        "vulnerabilities": None,
        **extra,
    }


def software_inventory(request: Request) -> list[dict[str, Any]]:
    """Every software version seen, with how many hosts have it."""
    qs = HostSoftware.objects.all()
    term = request.query_params.get("query", "").strip()
    if term:
        qs = qs.filter(Q(name__icontains=term) | Q(version__icontains=term))
    rows = qs.values("name", "version", "source").annotate(hosts_count=Count("host_id", distinct=True))
    items = [_software_item(r["name"], r["version"], r["source"], hosts_count=r["hosts_count"]) for r in rows]
    return items


def filter_software(request: Request, qs: "QuerySet[Host]") -> "QuerySet[Host]":
    raw = request.query_params.get("software_version_id") or request.query_params.get("software_id")
    if not raw:
        return qs
    if not raw.isdigit():
        raise ApiError(f"software_version_id must be an integer, got {raw!r}", name="software_version_id")
    wanted = int(raw)
    for name, version, source in HostSoftware.objects.values_list("name", "version", "source").distinct():
        if software_id(name, version, source) == wanted:
            return qs.filter(software__name=name, software__version=version, software__source=source).distinct()
    return qs.none()


def host_software(host: Host) -> list[dict[str, Any]]:
    return [
        _software_item(s.name, s.version, s.source, bundle_identifier=s.bundle_identifier)
        for s in HostSoftware.objects.filter(host=host).order_by("name", "version")
    ]


def host_users(host: Host) -> list[dict[str, Any]]:
    out = []
    for user in HostUser.objects.filter(host=host).order_by("username"):
        try:
            uid = int(user.uid)
        except ValueError:
            uid = -1
        out.append(
            {
                "uid": uid,
                "username": user.username,
                "type": user.user_type,
                "groupname": "",
                "shell": user.shell,
                "directory": user.directory,
            }
        )
    return out


def host_inventory(host: Host) -> dict[str, Any]:
    """Host detail sections from the collected inventory."""
    return {"software": host_software(host), "users": host_users(host)}


def host_refetch(host: Host) -> None:
    inventory_refetch(host=host)


def host_deleted_activity(*, actor: Any, host: Host) -> None:
    activity_record(actor=actor, action="deleted_host", details={"host_id": host.pk, "host_display_name": str(host)})


# ---- live queries ------------------------------------------------------------------------------


def host_query_sync(*, host: Host, sql: str, user: Any) -> dict[str, Any]:
    """Fleet's POST /hosts/{id}/query. As in Fleet, an offline host is not asked: the reply says
    so at once instead of waiting out the timeout."""
    status = statuses_of([host])[host.pk]
    if status != "online":
        return {"host_id": host.pk, "query": sql, "status": "offline", "error": None, "rows": []}
    try:
        reply = live_queries.host_query_sync(host=host, sql=sql, user=user)
    except live_queries.CampaignError as exc:
        raise ApiError(str(exc), name="query") from None
    return {k: reply[k] for k in ("host_id", "query", "status", "error", "rows")}


def hosts_query_sync(*, hosts: list[Host], sql: str, user: Any) -> list[dict[str, Any]]:
    """Run SQL on `hosts` and wait (LIVE_QUERY_SYNC_TIMEOUT seconds at most) for every answer.
    Returns one `{host_id, responded, rows, error}` per host, in the order given."""
    timeout = float(fleet_setting("LIVE_QUERY_SYNC_TIMEOUT"))
    ids = [h.pk for h in hosts]
    try:
        campaign = live_queries.campaign_launch(sql=sql, host_ids=ids, user=user, ttl=int(timeout) + 60)
    except live_queries.CampaignError as exc:
        raise ApiError(str(exc), name="query") from None
    deadline = time.monotonic() + timeout
    answers: dict[int, dict[str, Any]] = {}
    while len(answers) < len(ids):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        results, status = live_queries.campaign_wait(campaign, len(answers), remaining)
        for result in results:
            answers[result["host_id"]] = result
        if status != Campaign.Status.RUNNING:
            break
    live_queries.campaign_stop(campaign, status=Campaign.Status.COMPLETED)
    out = []
    for host_id in ids:
        answer = answers.get(host_id)
        if answer is None:
            error = f"timeout waiting for results after {timeout:g} s"
            out.append({"host_id": host_id, "responded": False, "rows": [], "error": error})
        else:
            out.append(
                {"host_id": host_id, "responded": True, "rows": answer["rows"], "error": answer["error"] or None}
            )
    return out


def campaign_create(*, sql: str, host_ids: set[int], user: Any, targets_spec: dict[str, Any]) -> Campaign:
    try:
        return live_queries.campaign_launch(sql=sql, targets={"hosts": sorted(host_ids)}, user=user)
    except live_queries.CampaignError as exc:
        raise ApiError(str(exc), name="query") from None


def campaign_results(campaign: Campaign, offset: int) -> list[dict[str, Any]]:
    results = live_queries.campaign_results_since(campaign, offset)
    names = dict(Host.objects.filter(pk__in=[r["host_id"] for r in results]).values_list("pk", "computer_name"))
    return [
        {
            "host": {
                "id": r["host_id"],
                "hostname": r["hostname"],
                "display_name": names.get(r["host_id"]) or r["hostname"],
            },
            "rows": r["rows"],
            "error": r["error"] or None,
            "status": r["status"],
        }
        for r in results
    ]


def campaign_totals(campaign: Campaign) -> dict[str, Any]:
    progress = live_queries.campaign_progress(campaign)
    hosts = list(Host.objects.filter(campaign_results__campaign=campaign))
    statuses = list(statuses_of(hosts).values())
    return {
        "count": progress["targeted"],
        "online": statuses.count("online"),
        "offline": statuses.count("offline"),
        "missing_in_action": statuses.count("mia"),
        "responded": progress["responded"],
        "failed": progress["failed"],
        "pending": progress["pending"],
        # Pending hosts that are online and so may still answer soon.
        "pending_online": max(0, progress["pending"] - progress["offline"]),
        "campaign_status": progress["status"],
    }


def campaign_stop(*, campaign: Campaign, user: Any) -> None:
    live_queries.campaign_stop(campaign, user=user)


def host_ids_for_labels(labels: list[Any]) -> set[int]:
    from .serializers import label_hosts

    ids: set[int] = set()
    for label in labels:
        ids.update(label_hosts(label).values_list("pk", flat=True))
    return ids
