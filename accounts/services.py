from typing import Any

from .models import Activity
from .redact import redact


def activity_record(*, actor: Any, action: str, details: dict[str, Any] | None = None) -> Activity:
    """Append to the audit log. `actor` is a user or None for the system. Never put secrets in
    `details`; keys that name one are redacted anyway (accounts/redact.py)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return Activity.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        details=redact(details or {}),
    )
