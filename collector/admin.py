from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.roles import is_admin
from fleetweb.admin_site import RoleModelAdmin

from .forwarding.shape import validate_rules
from .models import (
    CarveSession,
    Destination,
    LogBatch,
    OutboxEvent,
    QueryReportRow,
    StatusLogLine,
    ThrottleDrop,
)
from .services.forwarding import destination_send_test, outbox_replay


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


@admin.register(CarveSession)
class CarveSessionAdmin(ReadOnlyAdmin):
    list_display = ("carve_id", "host", "carve_size", "created_at", "completed_at", "sha256")
    list_select_related = ("host",)


class DestinationForm(forms.ModelForm):
    class Meta:
        model = Destination
        fields = "__all__"
        # Kept on edit, but not shown on screen.
        widgets = {"secret": forms.PasswordInput(render_value=True)}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind in ("http", "splunk_hec", "elasticsearch") and not str(data.get("url", "")).startswith(
            ("http://", "https://")
        ):
            self.add_error("url", "An http:// or https:// URL is required for this kind.")
        if kind == "syslog" and not (data.get("syslog_host") and data.get("syslog_port")):
            self.add_error("syslog_host", "Syslog needs a host and a port.")
        if kind == "file" and not data.get("file_path"):
            self.add_error("file_path", "A file path is required.")
        if kind == "splunk_hec" and not data.get("secret"):
            self.add_error("secret", "Splunk HEC needs its token here.")
        for problem in validate_rules(data.get("drop_fields", []), data.get("mask_fields", [])):
            self.add_error(None, problem)
        log_types = data.get("log_types") or []
        if not isinstance(log_types, list) or not set(log_types) <= {"result", "status"}:
            self.add_error("log_types", 'Use a list of "result" and/or "status".')
        if not isinstance(data.get("headers") or {}, dict):
            self.add_error("headers", "Headers must be a JSON object.")
        return data


@admin.register(Destination)
class DestinationAdmin(RoleModelAdmin):
    """Admins only, reading included: a destination holds the SIEM's credentials."""

    form = DestinationForm
    list_display = ("name", "kind", "enabled", "health", "pending", "dead", "last_success_at", "last_error_at")
    list_filter = ("kind", "enabled")
    actions = ["send_test_event", "replay_dead_letters"]
    readonly_fields = ("consecutive_failures", "retry_after", "last_success_at", "last_error", "last_error_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "enabled")}),
        (
            "Receiver",
            {
                "fields": (
                    "url",
                    "auth",
                    "username",
                    "secret",
                    "headers",
                    "gzip",
                    "tls_verify",
                    "tls_ca_file",
                    "timeout_seconds",
                )
            },
        ),
        ("Splunk HEC", {"fields": ("hec_index", "hec_source", "hec_sourcetype"), "classes": ("collapse",)}),
        ("Elasticsearch", {"fields": ("es_index",), "classes": ("collapse",)}),
        (
            "Syslog",
            {
                "fields": (
                    "syslog_host",
                    "syslog_port",
                    "syslog_transport",
                    "syslog_app_name",
                    "syslog_facility",
                    "syslog_max_message_bytes",
                ),
                "classes": ("collapse",),
            },
        ),
        ("File", {"fields": ("file_path", "file_rotate_bytes", "file_keep"), "classes": ("collapse",)}),
        (
            "Routing and shaping",
            {
                "fields": (
                    "log_types",
                    "include_queries",
                    "exclude_queries",
                    "shape",
                    "drop_fields",
                    "mask_fields",
                    "enrich",
                )
            },
        ),
        (
            "Delivery",
            {
                "fields": (
                    "batch_max_events",
                    "batch_max_bytes",
                    "batch_max_wait_seconds",
                    "max_attempts",
                    "max_age_seconds",
                    "backoff_base_seconds",
                    "backoff_max_seconds",
                )
            },
        ),
        ("Throttle", {"fields": ("throttle_limit", "throttle_interval_seconds", "throttle_key")}),
        ("Health", {"fields": readonly_fields}),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Destination]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_count=Count("outbox", filter=Q(outbox__state=OutboxEvent.State.PENDING)),
                dead_count=Count("outbox", filter=Q(outbox__state=OutboxEvent.State.DEAD)),
            )
        )

    @admin.display(description="pending")
    def pending(self, obj: Any) -> int:
        return int(obj.pending_count)

    @admin.display(description="dead letters")
    def dead(self, obj: Any) -> int:
        return int(obj.dead_count)

    @admin.display(description="health")
    def health(self, obj: Destination) -> str:
        if not obj.enabled:
            return "disabled"
        if obj.consecutive_failures:
            return format_html("failing ({} in a row): {}", obj.consecutive_failures, obj.last_error[:120])
        return "ok"

    @admin.action(description="Send a test event")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Destination]) -> None:
        for destination in queryset:
            result = destination_send_test(destination=destination)
            error = next(iter(result.retry.values()), None) or next(iter(result.failed.values()), None)
            if error:
                self.message_user(request, f"{destination.name}: test event failed: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{destination.name}: test event accepted", messages.SUCCESS)

    @admin.action(description="Replay dead-lettered events", permissions=["change"])
    def replay_dead_letters(self, request: HttpRequest, queryset: QuerySet[Destination]) -> None:
        count = outbox_replay(queryset=OutboxEvent.objects.filter(destination__in=queryset))
        self.message_user(request, f"{count} dead-lettered events queued again")


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """Dead letters live here (filter state = dead) with their last error, and can be replayed."""

    list_display = ("id", "destination", "state", "query_name", "hostname", "attempts", "created_at", "last_error")
    list_filter = ("state", "destination", "log_type")
    search_fields = ("event_id", "query_name", "hostname")
    actions = ["replay"]
    exclude = ("body",)
    readonly_fields = ("event_body",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="body")
    def event_body(self, obj: OutboxEvent) -> str:
        return format_html("<pre>{}</pre>", bytes(obj.body).decode(errors="replace")[:20000])

    def has_replay_permission(self, request: HttpRequest) -> bool:
        # Rows are read-only here, but replaying them is a change: it needs the change permission.
        return bool(request.user.has_perm("collector.change_outboxevent"))

    @admin.action(description="Replay the selected dead letters", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        count = outbox_replay(queryset=queryset)
        self.message_user(request, f"{count} dead-lettered events queued again")


@admin.register(ThrottleDrop)
class ThrottleDropAdmin(admin.ModelAdmin):
    list_display = ("destination", "key", "count", "last_dropped_at")
    list_filter = ("destination",)
    search_fields = ("key",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(QueryReportRow)
class QueryReportRowAdmin(admin.ModelAdmin):
    list_display = ("host", "name", "pack", "query", "unix_time", "stored_at")
    list_filter = ("pack",)
    search_fields = ("name", "host__hostname", "host__host_identifier")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(StatusLogLine)
class StatusLogLineAdmin(admin.ModelAdmin):
    list_display = ("host", "severity", "denylisted", "filename", "line", "message", "unix_time")
    list_filter = ("severity", "denylisted")
    search_fields = ("message", "host__hostname", "host__host_identifier")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
