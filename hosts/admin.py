from django.contrib import admin

from .models import EnrollSecret, Host


@admin.register(EnrollSecret)
class EnrollSecretAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "team")


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ("hostname", "platform", "os_version", "osquery_version", "last_seen_at")
    list_filter = ("platform",)
    search_fields = ("hostname", "uuid", "hardware_serial", "primary_ip", "host_identifier")
    readonly_fields = [f.name for f in Host._meta.fields if f.name != "id"]
