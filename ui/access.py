"""Role checks for the UI's views and templates, all through accounts.roles."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.roles import can_manage_queries, can_read, can_run_live_queries, is_admin, user_role


def role_required(check: Callable[[Any], bool]) -> Callable:
    """Anonymous users go to the login page; signed-in users without the role get a 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied("your role does not allow this")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


reader_required = role_required(can_read)
runner_required = role_required(can_run_live_queries)
admin_required = role_required(is_admin)


def roles(request: HttpRequest) -> dict[str, Any]:
    """Context processor: what the signed-in user may do, for showing or hiding controls."""
    user = getattr(request, "user", None)
    return {
        "ui_role": user_role(user),
        "ui_can_run": can_run_live_queries(user),
        "ui_can_manage": can_manage_queries(user),
        "ui_is_admin": is_admin(user),
    }
