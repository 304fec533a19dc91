"""The global config (agent options), enroll secrets, the activity log and the version."""

from importlib.metadata import version as package_version
from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Activity
from accounts.services import activity_record
from fleetweb.conf import fleet_setting
from hosts.models import EnrollSecret
from queries.models import AgentOptions
from queries.services import agent_options_update
from queries.specs.writers import enroll_secrets_set

from ..errors import ApiError
from ..listing import list_parameters, paginate
from ..permissions import AdminOnly, CanRead, ReadOrAdmin
from ..serializers import ActivitySerializer, EnrollSecretSerializer, EnrollSecretSpecBody, MetaSerializer
from .base import EMPTY, ApiView, responses


def app_config() -> dict[str, Any]:
    options = AgentOptions.get_solo()
    return {
        "org_info": {"org_name": "", "org_logo_url": ""},
        "server_settings": {
            "server_url": f"https://{fleet_setting('TLS_HOSTNAME')}",
            "live_query_disabled": False,
            "enable_analytics": False,
        },
        "agent_options": {"config": options.config or {}, "overrides": options.overrides or {}},
    }


# Sections fleetweb shows but does not let the API change; a PATCH may repeat them unchanged
# (so `fleetctl get config` output applies again) but not alter them.
READ_ONLY_SECTIONS = ("org_info", "server_settings")


class AgentOptionsIn(serializers.Serializer):
    config = serializers.DictField(required=False)
    overrides = serializers.DictField(required=False)
    command_line_flags = serializers.DictField(required=False)


class ConfigIn(serializers.Serializer):
    agent_options = AgentOptionsIn(required=False)
    org_info = serializers.DictField(required=False)
    server_settings = serializers.DictField(required=False)


CONFIG_OUT = inline_serializer(
    "AppConfig",
    {
        "org_info": serializers.DictField(),
        "server_settings": serializers.DictField(),
        "agent_options": serializers.DictField(),
    },
)


class ConfigView(ApiView):
    permission_classes = [ReadOrAdmin]

    @extend_schema(operation_id="config_get", responses=responses(CONFIG_OUT))
    def get(self, request: Request) -> Response:
        return Response(app_config())

    @extend_schema(operation_id="config_update", request=ConfigIn, responses=responses(CONFIG_OUT))
    def patch(self, request: Request) -> Response:
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - set(ConfigIn().fields))
            if unknown:
                raise ApiError(
                    f"unsupported config section(s): {', '.join(unknown)}; fleetweb's config has "
                    "agent_options (editable), org_info and server_settings (read-only)",
                    status_code=422,
                    name=unknown[0],
                )
        data = self.body(request, ConfigIn).validated_data
        current = app_config()
        for section in READ_ONLY_SECTIONS:
            for key, value in (data.get(section) or {}).items():
                if current[section].get(key) != value:
                    raise ApiError(
                        f"{section}.{key} cannot be changed through the API (it comes from the server's settings)",
                        status_code=422,
                        name=f"{section}.{key}",
                    )
        dry_run = request.query_params.get("dry_run") in ("1", "true")
        if "agent_options" in data:
            options = data["agent_options"]
            if options.get("command_line_flags"):
                raise ApiError(
                    "agent_options.command_line_flags is not supported; generate a flags file instead",
                    status_code=422,
                    name="agent_options.command_line_flags",
                )
            with transaction.atomic():
                agent_options_update(
                    actor=request.user, config=options.get("config") or {}, overrides=options.get("overrides") or {}
                )
                if dry_run:
                    transaction.set_rollback(True)
        return Response(app_config())


SECRETS_OUT = inline_serializer(
    "EnrollSecretSpec",
    {"spec": inline_serializer("EnrollSecretList", {"secrets": EnrollSecretSerializer(many=True)})},
)


class EnrollSecretSpecView(ApiView):
    permission_classes = [AdminOnly]

    @extend_schema(operation_id="enroll_secret_get", responses=responses(SECRETS_OUT))
    def get(self, request: Request) -> Response:
        rows = EnrollSecret.objects.filter(is_active=True).order_by("created_at", "id")
        return Response({"spec": {"secrets": EnrollSecretSerializer(rows, many=True).data}})

    @extend_schema(operation_id="enroll_secret_apply", request=EnrollSecretSpecBody, responses=responses(EMPTY))
    def post(self, request: Request) -> Response:
        data = self.body(request, EnrollSecretSpecBody).validated_data
        dry_run = data.get("dry_run") or request.query_params.get("dry_run") in ("1", "true")
        with transaction.atomic():
            enroll_secrets_set(secrets=data["spec"]["secrets"])
            activity_record(
                actor=request.user, action="edited_enroll_secrets", details={"count": len(data["spec"]["secrets"])}
            )
            if dry_run:
                transaction.set_rollback(True)
        return Response({})


ACTIVITY_ORDER = {"id": "id", "created_at": "created_at", "type": "action"}


class ActivityListView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="activities_list",
        parameters=list_parameters(list(ACTIVITY_ORDER), search="actor name or activity type"),
        responses=responses(
            inline_serializer("ActivityList", {"activities": ActivitySerializer(many=True), "meta": MetaSerializer()})
        ),
    )
    def get(self, request: Request) -> Response:
        qs = Activity.objects.select_related("actor")
        term = request.query_params.get("query", "").strip()
        if term:
            from django.db.models import Q

            qs = qs.filter(Q(actor_name__icontains=term) | Q(action__icontains=term))
        # Newest first unless asked otherwise: an audit log is read from the top.
        page = paginate(request, qs, ACTIVITY_ORDER, "created_at", default_direction="desc")
        return Response({"activities": ActivitySerializer(page.rows, many=True).data, "meta": page.meta})


class VersionView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="version",
        responses=responses(
            inline_serializer(
                "Version",
                {
                    "version": serializers.CharField(),
                    "branch": serializers.CharField(),
                    "revision": serializers.CharField(),
                },
            )
        ),
    )
    def get(self, request: Request) -> Response:
        return Response({"version": package_version("fleetweb"), "branch": "", "revision": ""})
