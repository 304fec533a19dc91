"""Bump the config generation whenever something that feeds agent configs changes.

Signals are used here (and only here) because configs change from many places: the admin, the
API, spec apply, pack import and label membership updates. Missing one would serve stale configs.
"""

from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .agent_config import config_forget_host, config_generation_bump


def _bump(**_: Any) -> None:
    transaction.on_commit(config_generation_bump)


def _forget_member(instance: Any, **_: Any) -> None:
    # A membership row changes only its own host's packs. Bumping the global generation here made
    # every host in the fleet re-render its config whenever any one host's labels changed.
    host_id = instance.host_id
    transaction.on_commit(lambda: config_forget_host(host_id))


def connect() -> None:
    from .models import AgentOptions, Label, LabelMembership, Pack, Query, ScheduledQuery

    for model in (AgentOptions, Label, Pack, Query, ScheduledQuery):
        post_save.connect(_bump, sender=model, dispatch_uid=f"cfg-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"cfg-delete-{model.__name__}")
    post_save.connect(_forget_member, sender=LabelMembership, dispatch_uid="cfg-save-LabelMembership")
    post_delete.connect(_forget_member, sender=LabelMembership, dispatch_uid="cfg-delete-LabelMembership")
    for through in (Pack.target_labels.through, Pack.target_hosts.through):
        m2m_changed.connect(_bump, sender=through, dispatch_uid=f"cfg-m2m-{through.__name__}")
