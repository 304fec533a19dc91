"""Manual labels: membership set by the operator instead of a query."""

from django.db import transaction

from .agent_config import config_generation_bump
from .models import Label, LabelMembership
from .targets import hosts_by_identifiers


class LabelError(ValueError):
    pass


@transaction.atomic
def label_manual_set(*, label: Label, identifiers: list[str]) -> set[int]:
    """Replace a manual label's hosts with the hosts named by hostname, UUID or serial. Raises
    LabelError, changing nothing, when the label is not manual or a name matches no host."""
    if label.membership != Label.Membership.MANUAL or label.builtin_platform:
        raise LabelError(f"label {label.name!r} is not a manual label")
    host_ids, missing = hosts_by_identifiers(list(identifiers))
    if missing:
        raise LabelError(f"unknown host(s): {', '.join(missing)}")
    existing = set(LabelMembership.objects.filter(label=label).values_list("host_id", flat=True))
    LabelMembership.objects.filter(label=label, host_id__in=existing - host_ids).delete()
    LabelMembership.objects.bulk_create(
        [LabelMembership(label=label, host_id=host_id) for host_id in sorted(host_ids - existing)]
    )
    # bulk_create and queryset delete skip the signals that invalidate configs (pack targeting).
    transaction.on_commit(config_generation_bump)
    return host_ids
