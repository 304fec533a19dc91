from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fleetweb.admin_site import RoleModelAdmin

from .models import Activity


@admin.register(Activity)
class ActivityAdmin(RoleModelAdmin):
    """The audit log: visible to every reader, changed by nobody."""

    list_display = ("created_at", "actor_name", "action", "details")
    list_filter = ("action",)
    search_fields = ("actor_name", "action")
    date_hierarchy = "created_at"
    readonly_fields = ("actor", "actor_name", "action", "details", "created_at")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
