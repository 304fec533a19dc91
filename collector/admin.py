from django.contrib import admin

from .models import CarveSession, LogBatch


@admin.register(LogBatch)
class LogBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "host_identifier", "log_type", "line_count", "received_at", "processed_at")
    list_filter = ("log_type",)
    exclude = ("payload",)


@admin.register(CarveSession)
class CarveSessionAdmin(admin.ModelAdmin):
    list_display = ("carve_id", "host", "carve_size", "created_at", "completed_at", "sha256")
