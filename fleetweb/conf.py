from typing import Any

from django.conf import settings


def fleet_setting(name: str) -> Any:
    """One of fleetweb's own knobs (settings.FLEET), read at call time so tests can override."""
    return settings.FLEET[name]
