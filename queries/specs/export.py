"""Export content as spec documents that apply_spec_text accepts unchanged."""

from typing import Any

from hosts.models import EnrollSecret, Host

from ..models import AgentOptions, Label, Pack, Policy, Query, ScheduledQuery

EXPORT_KINDS = ("query", "label", "pack", "policy", "config", "enroll_secret")


def _doc(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "spec": spec}


def _host_ref(host: Host) -> str:
    return host.uuid or host.hardware_serial or host.hostname or host.host_identifier


def _scheduled(sq: ScheduledQuery) -> dict[str, Any]:
    item: dict[str, Any] = {"query": sq.query.name, "name": sq.name, "interval": sq.interval, "logging": sq.logging}
    for key, value in (
        ("description", sq.description),
        ("platform", sq.platform),
        ("version", sq.min_osquery_version),
        ("shard", sq.shard),
    ):
        if value:
            item[key] = value
    if not sq.denylist:
        item["denylist"] = False
    return item


def _pack(pack: Pack) -> dict[str, Any]:
    targets: dict[str, Any] = {"labels": sorted(label.name for label in pack.target_labels.all())}
    if pack.target_platform_list:
        targets["platforms"] = pack.target_platform_list
    hosts = sorted(_host_ref(host) for host in pack.target_hosts.all())
    if hosts:
        targets["hosts"] = hosts
    spec: dict[str, Any] = {"name": pack.name, "description": pack.description, "disabled": pack.disabled}
    for key, value in (("platform", pack.platform), ("version", pack.min_osquery_version), ("shard", pack.shard)):
        if value:
            spec[key] = value
    if pack.discovery:
        spec["discovery"] = list(pack.discovery)
    spec["targets"] = targets
    spec["queries"] = [_scheduled(sq) for sq in pack.scheduled_queries.all()]
    return spec


def _label(label: Label) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": label.name,
        "description": label.description,
        "label_membership_type": label.membership,
        "platform": label.platform,
    }
    if label.membership == Label.Membership.MANUAL:
        spec["hosts"] = sorted(_host_ref(host) for host in label.hosts.all())
    else:
        spec["query"] = label.sql
    return spec


def export_specs(kinds: list[str]) -> list[dict[str, Any]]:
    """Documents for `kinds` (see EXPORT_KINDS), queries before the packs that use them.
    Built-in labels are left out: they exist everywhere and cannot be changed."""
    unknown = sorted(set(kinds) - set(EXPORT_KINDS))
    if unknown:
        raise ValueError(f"unknown kind(s) {', '.join(unknown)}; use {', '.join(EXPORT_KINDS)}")
    docs: list[dict[str, Any]] = []
    for kind in EXPORT_KINDS:
        if kind not in kinds:
            continue
        if kind == "query":
            docs += [
                _doc(
                    "query",
                    {
                        "name": q.name,
                        "description": q.description,
                        "query": q.sql,
                        "platform": q.platform,
                        "min_osquery_version": q.min_osquery_version,
                    },
                )
                for q in Query.objects.order_by("name")
            ]
        elif kind == "label":
            docs += [
                _doc("label", _label(label))
                for label in Label.objects.filter(builtin_platform="").prefetch_related("hosts").order_by("name")
            ]
        elif kind == "pack":
            packs = Pack.objects.prefetch_related("target_labels", "target_hosts", "scheduled_queries__query")
            docs += [_doc("pack", _pack(pack)) for pack in packs.order_by("name")]
        elif kind == "policy":
            docs += [
                _doc(
                    "policy",
                    {
                        "name": p.name,
                        "description": p.description,
                        "query": p.sql,
                        "resolution": p.resolution,
                        "platform": p.platform,
                        "critical": p.critical,
                    },
                )
                for p in Policy.objects.order_by("name")
            ]
        elif kind == "config":
            options = AgentOptions.objects.filter(pk=1).first()
            if options is not None:
                docs.append(
                    _doc("config", {"agent_options": {"config": options.config, "overrides": options.overrides}})
                )
        elif kind == "enroll_secret":
            secrets = [
                {"name": s.name, "secret": s.secret, "active": s.is_active} for s in EnrollSecret.objects.order_by("pk")
            ]
            if secrets:
                docs.append(_doc("enroll_secret", {"secrets": secrets}))
    return docs
