from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from accounts.roles import can_manage_queries
from fleetweb.admin_site import RoleInlineMixin, RoleModelAdmin

from .agent_options import validate_agent_options
from .models import AgentOptions, Campaign, CampaignHost, Label, Pack, Policy, Query, ScheduledQuery
from .sql_check import sql_check


class SqlCheckedForm(forms.ModelForm):
    """Refuses SQL that osquery would reject (syntax, unknown columns of known tables); what only
    deserves a warning (tables from extensions) is shown after saving."""

    sql_required = True

    def clean_sql(self) -> str:
        sql = self.cleaned_data.get("sql", "")
        if not sql.strip() and not self.sql_required:
            return sql
        check = sql_check(sql)
        if not check.ok:
            raise forms.ValidationError(check.errors)
        return sql.strip()


def _warn_sql(request: HttpRequest, sql: str) -> None:
    if sql.strip():
        for warning in sql_check(sql).warnings:
            messages.warning(request, warning)


class QueriesModelAdmin(RoleModelAdmin):
    manage_check = staticmethod(can_manage_queries)


class QueryForm(SqlCheckedForm):
    class Meta:
        model = Query
        fields = "__all__"


@admin.register(Query)
class QueryAdmin(QueriesModelAdmin):
    form = QueryForm
    list_display = ("name", "platform", "scheduled_in", "updated_at")
    search_fields = ("name", "sql", "description")
    ordering = ("name",)

    def get_queryset(self, request: HttpRequest) -> Any:
        from django.db.models import Count

        return super().get_queryset(request).annotate(_scheduled=Count("scheduled_queries"))

    @admin.display(description="scheduled in", ordering="_scheduled")
    def scheduled_in(self, obj: Any) -> int:
        return obj._scheduled

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _warn_sql(request, obj.sql)


class ScheduledQueryInline(RoleInlineMixin, admin.TabularInline):
    model = ScheduledQuery
    extra = 0
    autocomplete_fields = ("query",)
    fields = ("name", "query", "interval", "logging", "platform", "min_osquery_version", "shard", "denylist")
    manage_check = staticmethod(can_manage_queries)


@admin.register(Pack)
class PackAdmin(QueriesModelAdmin):
    list_display = ("name", "disabled", "query_count", "platform", "target_platforms")
    list_filter = ("disabled",)
    search_fields = ("name",)
    filter_horizontal = ("target_labels",)
    raw_id_fields = ("target_hosts",)
    inlines = [ScheduledQueryInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        from django.db.models import Count

        return super().get_queryset(request).annotate(_queries=Count("scheduled_queries"))

    @admin.display(description="queries", ordering="_queries")
    def query_count(self, obj: Any) -> int:
        return obj._queries


class LabelForm(SqlCheckedForm):
    sql_required = False

    class Meta:
        model = Label
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        dynamic = cleaned.get("membership") == Label.Membership.DYNAMIC
        builtin = bool(self.instance and self.instance.is_builtin)
        if dynamic and not builtin and not (cleaned.get("sql") or "").strip():
            self.add_error("sql", "a dynamic label needs a query")
        return cleaned


@admin.register(Label)
class LabelAdmin(QueriesModelAdmin):
    form = LabelForm
    list_display = ("name", "membership", "platform", "builtin_platform", "host_count")
    list_filter = ("membership",)
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> Any:
        from django.db.models import Count

        return super().get_queryset(request).annotate(_hosts=Count("labelmembership"))

    @admin.display(description="hosts", ordering="_hosts")
    def host_count(self, obj: Any) -> int:
        return obj._hosts

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)


class PolicyForm(SqlCheckedForm):
    class Meta:
        model = Policy
        fields = "__all__"


@admin.register(Policy)
class PolicyAdmin(QueriesModelAdmin):
    form = PolicyForm
    list_display = ("name", "critical", "platform", "failing_hosts", "passing_hosts", "updated_at")
    list_filter = ("critical",)
    search_fields = ("name", "sql", "description")

    def get_queryset(self, request: HttpRequest) -> Any:
        from django.db.models import Count, Q

        return (
            super()
            .get_queryset(request)
            .annotate(
                _failing=Count("results", filter=Q(results__passes=False)),
                _passing=Count("results", filter=Q(results__passes=True)),
            )
        )

    @admin.display(description="failing", ordering="_failing")
    def failing_hosts(self, obj: Any) -> int:
        return obj._failing

    @admin.display(description="passing", ordering="_passing")
    def passing_hosts(self, obj: Any) -> int:
        return obj._passing

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _warn_sql(request, obj.sql)


class AgentOptionsForm(forms.ModelForm):
    class Meta:
        model = AgentOptions
        fields = ("config", "overrides")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "config" in cleaned and "overrides" in cleaned:
            try:
                validate_agent_options(cleaned["config"], cleaned["overrides"])
            except forms.ValidationError as exc:
                raise forms.ValidationError(exc.messages) from None
        return cleaned


@admin.register(AgentOptions)
class AgentOptionsAdmin(RoleModelAdmin):
    form = AgentOptionsForm

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # One row; it exists from the first config served.
        return super().has_add_permission(request) and not AgentOptions.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CampaignHostInline(admin.TabularInline):
    model = CampaignHost
    extra = 0
    can_delete = False
    fields = ("host", "status", "row_count", "error", "answered_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(Campaign)
class CampaignAdmin(RoleModelAdmin):
    list_display = ("id", "created_at", "created_by", "status", "target_count", "short_sql")
    list_filter = ("status",)
    readonly_fields = ("sql", "created_by", "created_at", "expires_at", "status", "target_count", "targets_spec")
    list_select_related = ("created_by",)
    inlines = [CampaignHostInline]

    @admin.display(description="SQL")
    def short_sql(self, obj: Campaign) -> str:
        return obj.sql[:80]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # launched from the live query page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
