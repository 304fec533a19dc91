"""The admin site and a ModelAdmin base that ask accounts.roles instead of Django permissions.

Every signed-in user with a role may open the admin and read configuration; who may change what
is decided per model by `manage_check` (queries, packs, labels and policies: maintainers; the
rest: admins). Model admins that do not use `RoleModelAdmin` keep Django's own permissions, which
only superusers hold unless granted.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.roles import can_read, is_admin


class FleetAdminSite(admin.AdminSite):
    site_header = "fleetweb administration"
    site_title = "fleetweb admin"
    index_title = "Configuration"
    site_url = "/"

    def has_permission(self, request: HttpRequest) -> bool:
        return can_read(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # One sign-in page for the whole UI.
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")


class RoleModelAdmin(admin.ModelAdmin):
    """Readers may view; `manage_check(user)` decides add, change and delete."""

    manage_check: Callable[[Any], bool] = staticmethod(is_admin)
    # Django lets any changelist URL filter on any local field (`?secret__startswith=a`), which
    # turns a hidden field into a guessing oracle; these can never be filtered on.
    secret_fields = frozenset({"secret", "session_id", "node_key_hash", "key_hash", "token", "password"})

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup.split("__", 1)[0] in self.secret_fields:
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[call-arg]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_read(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.manage_check(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.manage_check(request.user)

    # Configuration changes made here go to the activity log too, like the API's.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, "created", obj)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, "edited", obj)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, "deleted", obj)
        return super().log_deletions(request, queryset)

    def _audit(self, request: HttpRequest, verb: str, obj: Any) -> None:
        from accounts.services import activity_record

        model = obj._meta.model_name
        activity_record(
            actor=request.user,
            action=f"{verb}_{model}",
            details={"id": obj.pk, "name": str(obj)[:200], "via": "admin"},
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.manage_check(request.user)


class RoleInlineMixin:
    """The same rules for inlines, which Django checks separately from their parent."""

    manage_check: Callable[[Any], bool] = staticmethod(is_admin)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.manage_check(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.manage_check(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.manage_check(request.user)


class ReadOnlyInlineMixin:
    """Inventory shown under a host: written by agents only."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read(request.user)
