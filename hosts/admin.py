from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.roles import can_manage_queries, can_run_live_queries, is_admin
from accounts.services import activity_record
from fleetweb.admin_site import ReadOnlyInlineMixin, RoleModelAdmin
from queries.models import LabelMembership, PolicyResult
from ui.hoststatus import STATUSES, status_filter

from .inventory.models import HostDetails, HostInterface, HostQueryStat, HostSoftware, HostUser
from .inventory.services import host_refetch
from .models import EnrollSecret, Host
from .services import host_delete
from .status import status_from


@admin.register(EnrollSecret)
class EnrollSecretAdmin(RoleModelAdmin):
    # Only admins see enroll secrets at all (SECURITY.md): observers get no page to probe.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    list_display = ("name", "team", "is_active", "host_count", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "team")

    def get_queryset(self, request: HttpRequest) -> QuerySet[EnrollSecret]:
        from django.db.models import Count

        return super().get_queryset(request).annotate(_hosts=Count("host"))

    @admin.display(description="hosts", ordering="_hosts")
    def host_count(self, obj: Any) -> int:
        return obj._hosts

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        # Observers may list the secrets but never read them.
        if not can_manage_queries(request.user) and "secret" in fields:
            fields.remove("secret")
        return fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"secret": EnrollSecret.generate()}


class HostStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(status, status) for status in STATUSES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Host]) -> QuerySet[Host]:
        if self.value() in STATUSES:
            return queryset.filter(status_filter(str(self.value())))
        return queryset


class HostLabelFilter(admin.SimpleListFilter):
    title = "label"
    parameter_name = "label"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from queries.models import Label

        return [(str(pk), name) for pk, name in Label.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Host]) -> QuerySet[Host]:
        value = self.value()
        if value and value.isdigit():
            from queries.targets import label_members_q

            return queryset.filter(label_members_q(int(value)))
        return queryset


class LabelMembershipInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = LabelMembership
    fields = ("label", "updated_at")
    readonly_fields = ("label", "updated_at")
    verbose_name = "label"
    verbose_name_plural = "labels"


class PolicyResultInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = PolicyResult
    fields = ("policy", "passes", "updated_at")
    readonly_fields = fields
    verbose_name_plural = "policies"


class HostDetailsInline(ReadOnlyInlineMixin, admin.StackedInline):
    model = HostDetails
    readonly_fields = [f.name for f in HostDetails._meta.fields if f.name != "host"]
    verbose_name_plural = "vitals and security posture"


class HostSoftwareInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = HostSoftware
    fields = ("name", "version", "source", "bundle_identifier", "install_path")
    readonly_fields = fields
    classes = ("collapse",)


class HostUserInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = HostUser
    fields = ("username", "uid", "user_type", "shell", "directory")
    readonly_fields = fields
    classes = ("collapse",)


class HostInterfaceInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = HostInterface
    fields = ("interface", "address", "mask", "mac", "default_route")
    readonly_fields = fields


class HostQueryStatInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = HostQueryStat
    fields = ("name", "executions", "wall_time_ms", "user_time", "system_time", "average_memory", "denylisted")
    readonly_fields = fields
    classes = ("collapse",)
    verbose_name_plural = "scheduled query performance"


@admin.register(Host)
class HostAdmin(RoleModelAdmin):
    list_display = (
        "display_name",
        "status",
        "platform",
        "os",
        "osquery_version",
        "primary_ip",
        "last_seen_at",
        "label_list",
    )
    list_filter = (HostStatusFilter, "platform", HostLabelFilter, "osquery_version", "enroll_secret")
    search_fields = ("hostname", "=uuid", "=hardware_serial", "primary_ip", "host_identifier")
    readonly_fields = [f.name for f in Host._meta.fields if f.name != "id"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [
        HostDetailsInline,
        LabelMembershipInline,
        PolicyResultInline,
        HostInterfaceInline,
        HostUserInline,
        HostSoftwareInline,
        HostQueryStatInline,
    ]
    actions = ["refetch_hosts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Host]:
        return super().get_queryset(request).prefetch_related("labels").select_related("enroll_secret")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Django's delete action keeps its confirmation page and deletes through
        # delete_queryset, i.e. the service, so node keys stop working at once.
        if not is_admin(request.user):
            actions.pop("delete_selected", None)
        if not can_run_live_queries(request.user):
            actions.pop("refetch_hosts", None)
        return actions

    @admin.display(description="host", ordering="hostname")
    def display_name(self, obj: Host) -> str:
        return str(obj)

    @admin.display(description="status")
    def status(self, obj: Host) -> str:
        value = status_from(obj.last_seen_at, timezone.now()).value
        return format_html('<span class="status-{}">{}</span>', value, value)

    @admin.display(description="OS", ordering="os_name")
    def os(self, obj: Host) -> str:
        return f"{obj.os_name} {obj.os_version}".strip()

    @admin.display(description="labels")
    def label_list(self, obj: Host) -> str:
        return format_html_join(", ", "{}", ((label.name,) for label in obj.labels.all()))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # hosts appear by enrolling

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # everything about a host comes from its agent

    def delete_model(self, request: HttpRequest, obj: Host) -> None:
        host_id, name = obj.pk, str(obj)
        host_delete(host=obj)
        activity_record(actor=request.user, action="host_deleted", details={"host_id": host_id, "hostname": name})

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Host]) -> None:
        for host in queryset:
            self.delete_model(request, host)

    @admin.action(description="Refetch vitals, labels and policies at the next check-in")
    def refetch_hosts(self, request: HttpRequest, queryset: QuerySet[Host]) -> None:
        if not can_run_live_queries(request.user):
            self.message_user(request, "Your role cannot ask hosts to refetch.", messages.ERROR)
            return
        hosts = list(queryset)
        for host in hosts:
            host_refetch(host=host)
        activity_record(actor=request.user, action="host_refetch", details={"host_ids": [h.pk for h in hosts]})
        self.message_user(request, f"{len(hosts)} host(s) will refetch at their next check-in.", messages.SUCCESS)
