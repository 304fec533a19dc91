"""Who may do what. Every view (API, UI, admin actions) asks these helpers instead of checking
roles itself, so the rules live in one place.

Roles follow Fleet: admin (everything), maintainer (queries, packs, labels, policies, live
queries), observer (read only), observer_plus (observer who may also run live queries).
Superusers count as admin. A user with no role assigned is an observer.
"""

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ADMIN = "admin"
    MAINTAINER = "maintainer"
    OBSERVER = "observer"
    OBSERVER_PLUS = "observer_plus"


def user_role(user: Any) -> Role | None:
    """The user's role, or None for anonymous or inactive users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    profile = getattr(user, "fleet_profile", None)
    role = getattr(profile, "role", None)
    return Role(role) if role else Role.OBSERVER


def can_read(user: Any) -> bool:
    return user_role(user) is not None


def can_run_live_queries(user: Any) -> bool:
    return user_role(user) in (Role.ADMIN, Role.MAINTAINER, Role.OBSERVER_PLUS)


def can_manage_queries(user: Any) -> bool:
    """Queries, packs, labels and policies."""
    return user_role(user) in (Role.ADMIN, Role.MAINTAINER)


def is_admin(user: Any) -> bool:
    return user_role(user) == Role.ADMIN
