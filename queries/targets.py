"""Turn what an operator selected (hosts, labels, platforms, everything) into a set of host ids."""

from typing import Any

from django.db.models import Exists, Q

from hosts.models import Host, Platform

from .models import Label, LabelMembership


def hosts_by_identifiers(identifiers: list[Any]) -> tuple[set[int], list[str]]:
    """Host ids for ids, hostnames, UUIDs, serials or host identifiers; plus the ones not found."""
    ids: set[int] = set()
    missing: list[str] = []
    for ident in identifiers:
        if isinstance(ident, bool):
            missing.append(str(ident))
            continue
        if isinstance(ident, int):
            found = set(Host.objects.filter(pk=ident).values_list("id", flat=True))
        else:
            text = str(ident).strip()
            found = (
                set(
                    Host.objects.filter(
                        Q(hostname=text) | Q(uuid=text) | Q(hardware_serial=text) | Q(host_identifier=text)
                    ).values_list("id", flat=True)
                )
                if text
                else set()
            )
            if not found and text.isdigit():
                # A host id sent as a string (query strings, CSV imports).
                found = set(Host.objects.filter(pk=int(text)).values_list("id", flat=True))
        if found:
            ids |= found
        else:
            missing.append(str(ident))
    return ids, missing


def labels_by_identifiers(identifiers: list[Any]) -> list[Label]:
    labels = []
    missing = []
    for ident in identifiers:
        if isinstance(ident, int) and not isinstance(ident, bool):
            label = Label.objects.filter(pk=ident).first()
        else:
            label = Label.objects.filter(name=str(ident)).first()
        if label is None:
            missing.append(str(ident))
        else:
            labels.append(label)
    if missing:
        raise ValueError(f"unknown label(s): {', '.join(sorted(missing))}")
    return labels


def label_host_ids(label: Label) -> set[int]:
    if label.builtin_platform == "all":
        return set(Host.objects.values_list("id", flat=True))
    if label.builtin_platform:
        return set(Host.objects.filter(platform=label.builtin_platform).values_list("id", flat=True))
    return set(LabelMembership.objects.filter(label=label).values_list("host_id", flat=True))


def resolve_targets(targets: Any) -> set[int]:
    """Raises ValueError naming what is malformed or unknown."""
    if not isinstance(targets, dict):
        raise ValueError("targets must be an object with hosts, labels, platforms or all")
    unknown_keys = set(targets) - {"hosts", "labels", "platforms", "all"}
    if unknown_keys:
        raise ValueError(f"unknown target kind(s): {', '.join(sorted(unknown_keys))}")
    for kind in ("hosts", "labels", "platforms"):
        if not isinstance(targets.get(kind, []), list):
            raise ValueError(f"targets.{kind} must be a list")
    if targets.get("all") is True:
        return set(Host.objects.values_list("id", flat=True))
    ids, missing = hosts_by_identifiers(targets.get("hosts", []))
    if missing:
        raise ValueError(f"unknown host(s): {', '.join(missing)}")
    for label in labels_by_identifiers(targets.get("labels", [])):
        ids |= label_host_ids(label)
    platforms = [str(p).lower() for p in targets.get("platforms", [])]
    bad = [p for p in platforms if p not in Platform.values]
    if bad:
        raise ValueError(f"unknown platform(s): {', '.join(bad)}; use {', '.join(Platform.values)}")
    if platforms:
        ids |= set(Host.objects.filter(platform__in=platforms).values_list("id", flat=True))
    return ids


def label_members_q(label_id: int) -> Q:
    """A filter on Host for the label's members. Built-in labels select by platform and have no
    membership rows, so every host list filtering by label must go through this. Built as
    subqueries, so filtering costs no extra query."""
    builtin = Label.objects.filter(pk=label_id).exclude(builtin_platform="").values("builtin_platform")
    return (
        Q(pk__in=LabelMembership.objects.filter(label_id=label_id).values("host_id"))
        | Q(platform__in=builtin)
        | Q(Exists(Label.objects.filter(pk=label_id, builtin_platform="all")))
    )


def host_labels(host: Host) -> list[Label]:
    """The host's labels, built-in platform labels included, by name."""
    return list(
        Label.objects.filter(Q(builtin_platform__in=["all", host.platform]) | Q(labelmembership__host_id=host.pk))
        .distinct()
        .order_by("name")
    )
