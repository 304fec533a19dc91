"""Writes to queries, packs, scheduled queries, labels and policies from the REST API.

Every write validates the model (`full_clean`), refuses duplicate names with `NameTaken`, and
appends to the audit log in the same transaction, so a rejected write leaves nothing behind.
"""

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from accounts.services import activity_record
from hosts.models import Host

from .models import Label, LabelMembership, Pack, Policy, Query, ScheduledQuery

M = TypeVar("M", bound=models.Model)


class NameTaken(Exception):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"a {kind} named {name!r} already exists")
        self.kind = kind
        self.name = name


class Refused(Exception):
    """The write is well-formed but not allowed (e.g. editing a built-in label)."""


def _save(instance: M, fields: dict[str, Any], *, kind: str) -> M:
    for name, value in fields.items():
        setattr(instance, name, value)
    name = getattr(instance, "name", "")
    model = type(instance)
    if kind != "scheduled query" and model._default_manager.filter(name=name).exclude(pk=instance.pk).exists():
        raise NameTaken(kind, name)
    instance.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise NameTaken(kind, name) from exc
    return instance


@transaction.atomic
def query_save(*, actor: Any, fields: dict[str, Any], query: Query | None = None) -> Query:
    created = query is None
    query = _save(query or Query(), fields, kind="query")
    activity_record(
        actor=actor,
        action="created_saved_query" if created else "edited_saved_query",
        details={"query_id": query.pk, "query_name": query.name},
    )
    return query


@transaction.atomic
def query_delete(*, actor: Any, query: Query) -> None:
    """Delete a query and the scheduled entries that run it (packs keep their other queries)."""
    details = {"query_id": query.pk, "query_name": query.name}
    ScheduledQuery.objects.filter(query=query).delete()
    query.delete()
    activity_record(actor=actor, action="deleted_saved_query", details=details)


@transaction.atomic
def pack_save(
    *,
    actor: Any,
    fields: dict[str, Any],
    pack: Pack | None = None,
    label_ids: Iterable[int] | None = None,
    host_ids: Iterable[int] | None = None,
) -> Pack:
    created = pack is None
    if pack is not None and pack.builtin and "name" in fields and fields["name"] != pack.name:
        raise Refused("built-in packs cannot be renamed")
    pack = _save(pack or Pack(), fields, kind="pack")
    if label_ids is not None:
        pack.target_labels.set(Label.objects.filter(pk__in=list(label_ids)))
    if host_ids is not None:
        pack.target_hosts.set(Host.objects.filter(pk__in=list(host_ids)))
    activity_record(
        actor=actor,
        action="created_pack" if created else "edited_pack",
        details={"pack_id": pack.pk, "pack_name": pack.name},
    )
    return pack


@transaction.atomic
def pack_delete(*, actor: Any, pack: Pack) -> None:
    if pack.builtin:
        raise Refused("built-in packs cannot be deleted")
    details = {"pack_id": pack.pk, "pack_name": pack.name}
    pack.delete()
    activity_record(actor=actor, action="deleted_pack", details=details)


@transaction.atomic
def scheduled_query_save(
    *, actor: Any, fields: dict[str, Any], scheduled: ScheduledQuery | None = None
) -> ScheduledQuery:
    scheduled = scheduled or ScheduledQuery()
    if not fields.get("name", scheduled.name):
        query = fields.get("query") or scheduled.query
        fields = {**fields, "name": query.name}
    for name, value in fields.items():
        setattr(scheduled, name, value)
    clash = ScheduledQuery.objects.filter(pack=scheduled.pack, name=scheduled.name).exclude(pk=scheduled.pk)
    if clash.exists():
        raise NameTaken("scheduled query in this pack", scheduled.name)
    scheduled.full_clean(validate_unique=False)
    scheduled.save()
    activity_record(
        actor=actor,
        action="edited_pack",
        details={"pack_id": scheduled.pack_id, "pack_name": scheduled.pack.name, "scheduled_query": scheduled.name},
    )
    return scheduled


@transaction.atomic
def scheduled_query_delete(*, actor: Any, scheduled: ScheduledQuery) -> None:
    details = {"pack_id": scheduled.pack_id, "pack_name": scheduled.pack.name, "removed_query": scheduled.name}
    scheduled.delete()
    activity_record(actor=actor, action="edited_pack", details=details)


@transaction.atomic
def label_save(
    *, actor: Any, fields: dict[str, Any], label: Label | None = None, host_ids: Iterable[int] | None = None
) -> Label:
    created = label is None
    if label is not None and label.is_builtin:
        raise Refused("built-in labels cannot be edited")
    label = _save(label or Label(), fields, kind="label")
    if label.membership == Label.Membership.DYNAMIC and not label.sql.strip():
        raise Refused("a dynamic label needs a query")
    if host_ids is not None:
        if label.membership != Label.Membership.MANUAL:
            raise Refused("hosts can only be set on manual labels; dynamic labels follow their query")
        label_hosts_set(label=label, host_ids=host_ids)
    activity_record(
        actor=actor,
        action="created_label" if created else "edited_label",
        details={"label_id": label.pk, "label_name": label.name},
    )
    return label


def label_hosts_set(*, label: Label, host_ids: Iterable[int]) -> None:
    wanted = set(Host.objects.filter(pk__in=list(host_ids)).values_list("pk", flat=True))
    LabelMembership.objects.filter(label=label).exclude(host_id__in=wanted).delete()
    existing = set(LabelMembership.objects.filter(label=label).values_list("host_id", flat=True))
    for host_id in sorted(wanted - existing):
        LabelMembership.objects.create(label=label, host_id=host_id)


@transaction.atomic
def host_labels_change(*, actor: Any, host: Host, labels: list[Label], add: bool) -> None:
    """Add `host` to (or remove it from) manual labels."""
    for label in labels:
        if label.membership != Label.Membership.MANUAL:
            raise Refused(f"label {label.name!r} is not a manual label")
    for label in labels:
        if add:
            LabelMembership.objects.get_or_create(label=label, host=host)
        else:
            LabelMembership.objects.filter(label=label, host=host).delete()
    activity_record(
        actor=actor,
        action="added_host_labels" if add else "removed_host_labels",
        details={"host_id": host.pk, "labels": [label.name for label in labels]},
    )


@transaction.atomic
def label_delete(*, actor: Any, label: Label) -> None:
    if label.is_builtin:
        raise Refused("built-in labels cannot be deleted")
    details = {"label_id": label.pk, "label_name": label.name}
    label.delete()
    activity_record(actor=actor, action="deleted_label", details=details)


@transaction.atomic
def policy_save(*, actor: Any, fields: dict[str, Any], policy: Policy | None = None) -> Policy:
    created = policy is None
    policy = _save(policy or Policy(), fields, kind="policy")
    activity_record(
        actor=actor,
        action="created_policy" if created else "edited_policy",
        details={"policy_id": policy.pk, "policy_name": policy.name},
    )
    return policy


@transaction.atomic
def policies_delete(*, actor: Any, policies: list[Policy]) -> int:
    for policy in policies:
        details = {"policy_id": policy.pk, "policy_name": policy.name}
        policy.delete()
        activity_record(actor=actor, action="deleted_policy", details=details)
    return len(policies)


@transaction.atomic
def agent_options_update(*, actor: Any, config: Any, overrides: Any) -> None:
    """Replace the agent options after checking them (raises django ValidationError)."""
    from .agent_options import validate_agent_options
    from .models import AgentOptions

    validate_agent_options(config, overrides)
    options = AgentOptions.get_solo()
    options.config = config or {}
    options.overrides = overrides or {}
    options.save()
    activity_record(actor=actor, action="edited_agent_options", details={"global": True})
