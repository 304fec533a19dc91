from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fleetweb.admin_site import RoleModelAdmin

from .models import CarveSession, LogBatch


class ReadOnlyAdmin(RoleModelAdmin):
    """Records written by agents and the pipeline: readable, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LogBatch)
class LogBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "host_identifier", "log_type", "line_count", "received_at", "processed_at")
    list_filter = ("log_type",)
    exclude = ("payload",)
    show_full_result_count = False


@admin.register(CarveSession)
class CarveSessionAdmin(ReadOnlyAdmin):
    list_display = ("carve_id", "host", "carve_size", "created_at", "completed_at", "sha256")
    list_select_related = ("host",)
