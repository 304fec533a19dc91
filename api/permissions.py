"""Role checks for API views. The rules live in accounts.roles; these classes only map them to
HTTP methods so each view states its rule in one line."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts import roles


class CanRead(BasePermission):
    """Any logged-in user may read; writes need a more specific class."""

    message = "Permission Denied: your role cannot do this"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not roles.can_read(request.user):
            return False
        return request.method in SAFE_METHODS


class ReadOrManageQueries(CanRead):
    """Reads for everyone; writes for admins and maintainers (queries, packs, labels, policies)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return roles.can_read(request.user)
        return roles.can_manage_queries(request.user)


class ReadOrAdmin(CanRead):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return roles.can_read(request.user)
        return roles.is_admin(request.user)


class AdminOnly(CanRead):
    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.is_admin(request.user)


class CanRunLiveQueries(CanRead):
    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.can_run_live_queries(request.user)


class CanManageQueries(CanRead):
    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.can_manage_queries(request.user)


class Authenticated(CanRead):
    """Any logged-in user, any method (their own session, their own password)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.can_read(request.user)


_EVERYONE = "admin, maintainer, observer, observer_plus"
_MANAGERS = "admin, maintainer"
_SAFE = ("GET", "HEAD", "OPTIONS")

# Permission class name -> the roles it allows for a method, for the API documentation.
ROLE_RULES = {
    "CanRead": lambda method: _EVERYONE if method in _SAFE else "none",
    "ReadOrManageQueries": lambda method: _EVERYONE if method in _SAFE else _MANAGERS,
    "ReadOrAdmin": lambda method: _EVERYONE if method in _SAFE else "admin",
    "AdminOnly": lambda method: "admin",
    "CanRunLiveQueries": lambda method: "admin, maintainer, observer_plus",
    "CanManageQueries": lambda method: _MANAGERS,
    "Authenticated": lambda method: f"{_EVERYONE} (the view narrows some cases; see the description)",
}
