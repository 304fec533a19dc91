"""Dynamic labels and policies over the distributed channel.

Labels: a host is a member when the label's query returns one or more rows; zero rows or a failed
query remove it. Policies: one or more rows pass, zero rows fail, a failed query is "unknown"
(passes = NULL). Both are asked when due (hosts.inventory.due), about hourly per host with jitter.

Their SQL changes rarely, so the lists are cached in Redis under a generation number that any
Label or Policy save/delete bumps; a due host costs one Redis read, not a table scan.
"""

import logging
import time
from typing import Any

import orjson
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from collector.distributed import QueryResult, ReadWork, register_prefetched_read_provider, register_write_handler
from fleetweb.conf import fleet_setting
from fleetweb.db import restart_on_deadlock
from fleetweb.redis import generation_bump, generation_key, get_redis
from hosts.inventory.due import DUE_KEY, INFLIGHT_SECONDS, due_from, due_set, jitter_seconds
from hosts.node_cache import NodeHost

from .agent_config import config_forget_host
from .models import Label, LabelMembership, Policy, PolicyResult

LABEL_PREFIX = "fleetweb_label"
POLICY_PREFIX = "fleetweb_policy"
GENERATION_KEY = generation_key("lp:gen")
_LIST_SECONDS = 24 * 3600

log = logging.getLogger(__name__)


def membership_generation_bump(**_: Any) -> None:
    transaction.on_commit(lambda: generation_bump(GENERATION_KEY))


def connect() -> None:
    for model in (Label, Policy):
        post_save.connect(membership_generation_bump, sender=model, dispatch_uid=f"lp-save-{model.__name__}")
        post_delete.connect(membership_generation_bump, sender=model, dispatch_uid=f"lp-delete-{model.__name__}")


# Fleet-style platform names used in label and policy specs, mapped to the platform we record.
_PLATFORM_ALIASES = {
    "macos": "darwin",
    **dict.fromkeys(("ubuntu", "debian", "rhel", "centos", "fedora", "amzn", "arch", "suse", "opensuse"), "linux"),
}


def _platforms(value: str) -> set[str]:
    names = {p.strip().lower() for p in value.split(",") if p.strip()}
    return {_PLATFORM_ALIASES.get(name, name) for name in names}


def query_lists() -> dict[str, list[list[Any]]]:
    """`{"labels": [[id, sql, platforms]], "policies": [...]}`, from Redis when current."""
    redis = get_redis()
    generation = (redis.get(GENERATION_KEY) or b"0").decode()
    cached = redis.get(f"lp:list:{generation}")
    if cached:
        return orjson.loads(cached)
    lists = {
        "labels": [
            [label.pk, label.sql, label.platform]
            for label in Label.objects.filter(membership=Label.Membership.DYNAMIC, builtin_platform="").exclude(sql="")
        ],
        "policies": [[p.pk, p.sql, p.platform] for p in Policy.objects.exclude(sql="")],
    }
    redis.set(f"lp:list:{generation}", orjson.dumps(lists), ex=_LIST_SECONDS)
    return lists


def _applies(platforms: str, node: NodeHost) -> bool:
    wanted = _platforms(platforms)
    return not wanted or node.platform in wanted


@register_prefetched_read_provider((("hash", DUE_KEY), ("get", GENERATION_KEY)))
def membership_work(node: NodeHost, now: float, state: list[Any]) -> ReadWork:
    due_hash, generation = state[0], (state[1] or b"0")
    # Labels and policies changed since this host was last asked: ask again now rather than at
    # the next interval, so a new label fills in within one check-in.
    changed = due_hash.get(b"lp_gen", b"0") != generation
    labels_due, policies_due = due_from(due_hash, "labels"), due_from(due_hash, "policies")
    want_labels = changed or labels_due is None or labels_due <= now
    want_policies = changed or policies_due is None or policies_due <= now
    if not want_labels and not want_policies:
        return ReadWork()
    if changed:
        due_set(node.id, "lp_gen", int(generation))
    lists = query_lists()
    work = ReadWork()
    for category, prefix, wanted in (("labels", LABEL_PREFIX, want_labels), ("policies", POLICY_PREFIX, want_policies)):
        if not wanted:
            continue
        queries = {
            f"{prefix}_{item_id}": sql for item_id, sql, platforms in lists[category] if _applies(platforms, node)
        }
        # With nothing to ask, the host is simply not due again until the next interval.
        due_set(node.id, category, now + INFLIGHT_SECONDS if queries else _next_due(node.id, category))
        work.queries.update(queries)
    return work


def _next_due(host_id: int, category: str) -> float:
    interval = fleet_setting("LABEL_UPDATE_INTERVAL" if category == "labels" else "POLICY_UPDATE_INTERVAL")
    return time.time() + interval + jitter_seconds(host_id, category, interval, fleet_setting("MAX_JITTER_PERCENT"))


def _ids(prefix: str, results: list[QueryResult]) -> dict[int, QueryResult]:
    by_id = {}
    for result in results:
        rest = result.query_id[len(prefix) + 1 :]
        if rest.isdigit():
            by_id[int(rest)] = result
    return by_id


@register_write_handler(LABEL_PREFIX)
def label_results(node: NodeHost, results: list[QueryResult]) -> None:
    answers = _ids(LABEL_PREFIX, results)
    members = {label_id for label_id, r in answers.items() if r.ok and r.rows}
    if label_membership_apply(host_id=node.id, label_ids=set(answers), member_ids=members):
        # Only this host's packs can change (bulk_create sends no signals, so say it here).
        transaction.on_commit(lambda: config_forget_host(node.id))
    due_set(node.id, "labels", _next_due(node.id, "labels"))


@restart_on_deadlock
@transaction.atomic
def label_membership_apply(*, host_id: int, label_ids: set[int], member_ids: set[int]) -> bool:
    """Make the host a member of `member_ids` and not of the rest of `label_ids` (labels that
    still exist). Returns whether membership changed."""
    existing = set(
        LabelMembership.objects.filter(host_id=host_id, label_id__in=label_ids).values_list("label_id", flat=True)
    )
    gone = existing - member_ids
    new = member_ids - existing
    if gone:
        LabelMembership.objects.filter(host_id=host_id, label_id__in=gone).delete()
    if new:
        live = set(Label.objects.filter(pk__in=new).values_list("id", flat=True))
        LabelMembership.objects.bulk_create(
            [LabelMembership(host_id=host_id, label_id=label_id) for label_id in sorted(live)], ignore_conflicts=True
        )
        new &= live
    return bool(gone or new)


@register_write_handler(POLICY_PREFIX)
def policy_results(node: NodeHost, results: list[QueryResult]) -> None:
    answers = _ids(POLICY_PREFIX, results)
    policy_results_store(host_id=node.id, answers={pid: (bool(r.rows) if r.ok else None) for pid, r in answers.items()})
    due_set(node.id, "policies", _next_due(node.id, "policies"))


@restart_on_deadlock
@transaction.atomic
def policy_results_store(*, host_id: int, answers: dict[int, bool | None]) -> None:
    """Replace the host's results for these policies. Policies deleted meanwhile are skipped."""
    live = set(Policy.objects.filter(pk__in=answers).values_list("id", flat=True))
    now = timezone.now()
    PolicyResult.objects.filter(host_id=host_id, policy_id__in=live).delete()
    PolicyResult.objects.bulk_create(
        [PolicyResult(policy_id=pid, host_id=host_id, passes=answers[pid], updated_at=now) for pid in sorted(live)]
    )
