"""Ask a host for its vitals as soon as it (re-)enrolls.

A brand-new host has no due times and is asked anyway; this covers a re-enroll (agent reinstall,
new disk image), whose old due times would otherwise hold its vitals back for up to an hour.
Enrollment stamps last_enrolled_at and last_seen_at with the same instant, which tells an enroll
save apart from other saves without touching the enroll code.
"""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from ..models import Host
from .due import due_reset


def _after_host_save(sender: Any, instance: Host, update_fields: Any = None, **_: Any) -> None:
    if update_fields is None and instance.last_enrolled_at == instance.last_seen_at:
        host_id = instance.pk
        transaction.on_commit(lambda: due_reset(host_id))


def connect() -> None:
    post_save.connect(_after_host_save, sender=Host, dispatch_uid="inventory-refetch-on-enroll")
