from django.contrib import admin

from .models import EnrollSecret, Host
from .services import host_delete


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

    # Deleting through the service revokes the node key at once; a plain delete would leave the
    # cached key working until the cache entry expires.
    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        host_delete(host=obj)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for host in queryset:
            host_delete(host=host)
