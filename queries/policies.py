"""Policy reports: how many hosts pass, fail or have not answered, and which ones fail."""

from typing import Any

from django.db.models import Count, Q

from hosts.models import Host

from .models import Policy, PolicyResult


def policy_targeted_hosts(policy: Policy):  # type: ignore[no-untyped-def]
    platforms = [p.strip().lower() for p in policy.platform.split(",") if p.strip()]
    hosts = Host.objects.all()
    return hosts.filter(platform__in=platforms) if platforms else hosts


def policy_counts(policy: Policy) -> dict[str, Any]:
    """`passing`, `failing`, and `unknown` (query failed on the host, or no answer yet)."""
    counts = PolicyResult.objects.filter(policy=policy, host__in=policy_targeted_hosts(policy)).aggregate(
        passing=Count("id", filter=Q(passes=True)),
        failing=Count("id", filter=Q(passes=False)),
        answered=Count("id", filter=Q(passes__isnull=False)),
    )
    targeted = policy_targeted_hosts(policy).count()
    return {
        "policy_id": policy.pk,
        "passing": counts["passing"],
        "failing": counts["failing"],
        "unknown": max(0, targeted - counts["answered"]),
    }


def policy_failing_hosts(policy: Policy) -> list[Host]:
    return list(Host.objects.filter(policy_results__policy=policy, policy_results__passes=False).order_by("hostname"))
