"""Create-or-update writers shared by spec apply, pack import and the built-in content.

Each returns "created", "updated" or "unchanged" so callers can report exactly what happened, and
saves only when a value differs: an unchanged apply bumps no config generation.
"""

from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any, Literal, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Q

from hosts.models import EnrollSecret, Host

from ..models import AgentOptions, Label, LabelMembership, Pack, Policy, Query, ScheduledQuery

Status = Literal["created", "updated", "unchanged"]
M = TypeVar("M", bound=Model)


def model_upsert(model: type[M], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[M, Status]:
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()
        obj.save()
        return obj, "created"
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, "unchanged"
    for name in changed:
        setattr(obj, name, values[name])
    obj.full_clean()
    obj.save()
    return obj, "updated"


def query_upsert(
    *, name: str, sql: str, description: str = "", platform: str = "", min_osquery_version: str = ""
) -> tuple[Query, Status]:
    return model_upsert(
        Query,
        {"name": name},
        {"sql": sql, "description": description, "platform": platform, "min_osquery_version": min_osquery_version},
    )


def policy_upsert(
    *, name: str, sql: str, description: str = "", resolution: str = "", platform: str = "", critical: bool = False
) -> tuple[Policy, Status]:
    return model_upsert(
        Policy,
        {"name": name},
        {"sql": sql, "description": description, "resolution": resolution, "platform": platform, "critical": critical},
    )


def hosts_find(identifiers: list[str]) -> tuple[list[Host], list[str]]:
    """Hosts named by hostname, UUID or serial; returns (hosts, identifiers that matched none)."""
    found: list[Host] = []
    missing: list[str] = []
    for ident in identifiers:
        host = (
            Host.objects.filter(Q(hostname=ident) | Q(uuid=ident) | Q(hardware_serial=ident) | Q(host_identifier=ident))
            .order_by("id")
            .first()
        )
        if host is None:
            missing.append(ident)
        elif host not in found:
            found.append(host)
    return found, missing


def label_upsert(
    *, name: str, sql: str, description: str, platform: str, membership: str, hosts: list[Host] | None
) -> tuple[Label, Status]:
    label, status = model_upsert(
        Label,
        {"name": name},
        {"sql": sql, "description": description, "platform": platform, "membership": membership},
    )
    if membership == Label.Membership.MANUAL and hosts is not None:
        wanted = {host.pk for host in hosts}
        current = set(LabelMembership.objects.filter(label=label).values_list("host_id", flat=True))
        if wanted != current:
            LabelMembership.objects.filter(label=label).exclude(host_id__in=wanted).delete()
            for host_id in sorted(wanted - current):
                LabelMembership.objects.create(label=label, host_id=host_id)
            status = "updated" if status == "unchanged" else status
    return label, status


@dataclass
class ScheduledSpec:
    name: str
    query: Query
    interval: int
    logging: str = ScheduledQuery.Logging.DIFFERENTIAL
    description: str = ""
    platform: str = ""
    min_osquery_version: str = ""
    shard: int | None = None
    denylist: bool = True


@dataclass
class PackSpec:
    name: str
    scheduled: list[ScheduledSpec]
    # None keeps the current value: a re-import must not undo an operator's description or
    # disabling.
    description: str | None = None
    disabled: bool | None = None
    platform: str = ""
    min_osquery_version: str = ""
    shard: int | None = None
    discovery: list[str] = field(default_factory=list)
    target_platforms: str = ""
    # None leaves the current targets alone (pack import); a list replaces them (spec apply).
    target_labels: list[Label] | None = None
    target_hosts: list[Host] | None = None
    # None keeps the current flag: only the built-in loader marks packs built-in.
    builtin: bool | None = None


def pack_upsert(*, spec: PackSpec) -> tuple[Pack, Status]:
    """Make the pack and its scheduled queries exactly `spec`; scheduled queries not in it go."""
    values: dict[str, Any] = {
        "platform": spec.platform,
        "min_osquery_version": spec.min_osquery_version,
        "shard": spec.shard,
        "discovery": spec.discovery,
        "target_platforms": spec.target_platforms,
    }
    for name in ("description", "disabled", "builtin"):
        if getattr(spec, name) is not None:
            values[name] = getattr(spec, name)
    pack, status = model_upsert(Pack, {"name": spec.name}, values)
    changed = status == "updated"
    for relation, wanted in (("target_labels", spec.target_labels), ("target_hosts", spec.target_hosts)):
        if wanted is None:
            continue
        manager = getattr(pack, relation)
        if {obj.pk for obj in wanted} != set(manager.values_list("pk", flat=True)):
            manager.set(wanted)
            changed = True
    names = [sq.name for sq in spec.scheduled]
    stale = ScheduledQuery.objects.filter(pack=pack).exclude(name__in=names)
    if stale.exists():
        stale.delete()
        changed = True
    for sq in spec.scheduled:
        _, sq_status = model_upsert(
            ScheduledQuery,
            {"pack": pack, "name": sq.name},
            {
                "query": sq.query,
                "interval": sq.interval,
                "logging": sq.logging,
                "description": sq.description,
                "platform": sq.platform,
                "min_osquery_version": sq.min_osquery_version,
                "shard": sq.shard,
                "denylist": sq.denylist,
            },
        )
        changed = changed or sq_status != "unchanged"
    if status == "created":
        return pack, status
    return pack, "updated" if changed else "unchanged"


def agent_options_set(*, config: dict[str, Any], overrides: dict[str, Any]) -> tuple[AgentOptions, Status]:
    existing = AgentOptions.objects.filter(pk=1).first()
    if existing is None:
        return AgentOptions.objects.create(pk=1, config=config, overrides=overrides), "created"
    if existing.config == config and existing.overrides == overrides:
        return existing, "unchanged"
    existing.config = config
    existing.overrides = overrides
    existing.save()
    return existing, "updated"


def _secret_default_name(secret: str) -> str:
    return "secret-" + sha256(secret.encode()).hexdigest()[:8]


def enroll_secrets_set(*, secrets: list[dict[str, Any]]) -> dict[str, Status]:
    """Make `secrets` the active set, as Fleet's enroll_secret spec does.

    Secrets missing from the list are deactivated rather than deleted, so hosts keep the record of
    the secret they enrolled with.
    """
    results: dict[str, Status] = {}
    listed: list[int] = []
    for item in secrets:
        secret = item["secret"]
        existing = EnrollSecret.objects.filter(secret=secret).first()
        name = item.get("name") or (existing.name if existing else _secret_default_name(secret))
        active = item.get("active", True)
        if EnrollSecret.objects.filter(name=name).exclude(secret=secret).exists():
            raise ValidationError(f"enroll secret name {name!r} is already used by a different secret")
        if existing is None:
            obj = EnrollSecret.objects.create(name=name, secret=secret, is_active=active)
            results[name] = "created"
        else:
            obj = existing
            if (obj.name, obj.is_active) != (name, active):
                obj.name, obj.is_active = name, active
                obj.save(update_fields=["name", "is_active"])
                results[name] = "updated"
            else:
                results[name] = "unchanged"
        listed.append(obj.pk)
    for obj in EnrollSecret.objects.filter(is_active=True).exclude(pk__in=listed):
        obj.is_active = False
        obj.save(update_fields=["is_active"])
        results[obj.name] = "updated"
    return results
