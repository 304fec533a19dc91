from django.contrib import admin

from .models import AgentOptions, Campaign, Label, Pack, Query, ScheduledQuery


@admin.register(Query)
class QueryAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "updated_at")
    search_fields = ("name", "sql", "description")


class ScheduledQueryInline(admin.TabularInline):
    model = ScheduledQuery
    extra = 0
    autocomplete_fields = ("query",)


@admin.register(Pack)
class PackAdmin(admin.ModelAdmin):
    list_display = ("name", "disabled", "platform", "target_platforms")
    search_fields = ("name",)
    filter_horizontal = ("target_labels",)
    raw_id_fields = ("target_hosts",)
    inlines = [ScheduledQueryInline]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("name", "membership", "platform", "builtin_platform")
    search_fields = ("name",)


@admin.register(AgentOptions)
class AgentOptionsAdmin(admin.ModelAdmin):
    pass


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "status", "target_count")
    readonly_fields = ("sql", "created_by", "created_at", "expires_at", "status", "target_count", "targets_spec")
