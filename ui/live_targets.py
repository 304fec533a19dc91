"""What the operator picked on the live query page, turned into hosts in one query."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from hosts.models import Host, Platform
from queries.models import Label


@dataclass
class Targets:
    all: bool = False
    hosts: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: Any) -> "Targets":
        def ids(name: str) -> list[int]:
            return sorted({int(v) for v in params.getlist(name) if str(v).isdigit()})

        return cls(
            all=params.get("all") in ("1", "on", "true"),
            hosts=ids("hosts"),
            labels=ids("labels"),
            platforms=sorted({p for p in params.getlist("platforms") if p in Platform.values}),
        )

    @property
    def empty(self) -> bool:
        return not (self.all or self.hosts or self.labels or self.platforms)

    def as_spec(self) -> dict[str, Any]:
        return {"all": self.all, "hosts": self.hosts, "labels": self.labels, "platforms": self.platforms}


def target_hosts(targets: Targets) -> "QuerySet[Host]":
    if targets.empty:
        return Host.objects.none()
    if targets.all:
        return Host.objects.all()
    platforms = set(targets.platforms)
    label_ids = []
    # Built-in labels select by platform without membership rows.
    for label_id, builtin in Label.objects.filter(id__in=targets.labels).values_list("id", "builtin_platform"):
        if builtin == "all":
            return Host.objects.all()
        if builtin:
            platforms.add(builtin)
        else:
            label_ids.append(label_id)
    condition = Q(pk__in=targets.hosts) | Q(platform__in=platforms)
    if label_ids:
        condition |= Q(pk__in=Host.objects.filter(labelmembership__label_id__in=label_ids).values("pk"))
    return Host.objects.filter(condition)
