from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from hosts.models import Host
from hosts.services import host_delete
from hosts.status import host_last_seen, host_status_summary
from queries.models import Label, Pack
from queries.services import host_labels_change

from .. import live
from ..errors import ApiError
from ..listing import list_parameters, paginate
from ..permissions import AdminOnly, CanManageQueries, CanRead, CanRunLiveQueries
from ..serializers import HostDetailSerializer, HostPolicySerializer, HostSerializer, host_by_identifier, label_hosts
from .base import EMPTY, ApiView, responses, wrapped

HOST_ORDER = {
    "id": "id",
    "hostname": "hostname",
    "display_name": "hostname",
    "computer_name": "computer_name",
    "platform": "platform",
    "osquery_version": "osquery_version",
    "os_version": "os_version",
    "primary_ip": "primary_ip",
    "hardware_serial": "hardware_serial",
    "created_at": "enrolled_at",
    "last_enrolled_at": "last_enrolled_at",
    "seen_time": "last_seen_at",
}
HOST_FILTERS = [
    *list_parameters(list(HOST_ORDER), search="hostname, display name, UUID, serial, IP or MAC (substring)"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=list(live.STATUSES)),
    OpenApiParameter("label_id", OpenApiTypes.INT),
    OpenApiParameter("platform", OpenApiTypes.STR, description="darwin, linux, windows or other"),
    OpenApiParameter("policy_id", OpenApiTypes.INT),
    OpenApiParameter("policy_response", OpenApiTypes.STR, enum=["passing", "failing"]),
    OpenApiParameter("software_id", OpenApiTypes.INT),
    OpenApiParameter("software_version_id", OpenApiTypes.INT),
    OpenApiParameter("team_id", OpenApiTypes.INT, description="only 0 or absent: fleetweb has no teams"),
]


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(f"{name} must be an integer, got {raw!r}", name=name) from None


def filtered_hosts(request: Request, qs: "QuerySet[Host] | None" = None) -> "QuerySet[Host]":
    qs = Host.objects.select_related("enroll_secret") if qs is None else qs.select_related("enroll_secret")
    search = request.query_params.get("query", "").strip()
    if search:
        qs = qs.filter(
            Q(hostname__icontains=search)
            | Q(computer_name__icontains=search)
            | Q(uuid__icontains=search)
            | Q(hardware_serial__icontains=search)
            | Q(primary_ip__icontains=search)
            | Q(primary_mac__icontains=search)
            | Q(host_identifier__icontains=search)
        )
    status = request.query_params.get("status")
    if status:
        if status not in live.STATUSES:
            raise ApiError(f"status must be one of {', '.join(live.STATUSES)}", name="status")
        qs = live.filter_status(qs, status)
    platform = request.query_params.get("platform")
    if platform:
        qs = qs.filter(platform__in=[p.strip() for p in platform.split(",") if p.strip()])
    team_id = _int(request, "team_id")
    if team_id:
        return qs.none()
    label_id = _int(request, "label_id")
    if label_id is not None:
        label = Label.objects.filter(pk=label_id).first()
        if label is None:
            raise ApiError(f"no label with id {label_id}", status_code=404, name="label_id")
        qs = qs.filter(pk__in=label_hosts(label).values("pk"))
    qs = live.filter_policy_response(request, qs)
    qs = live.filter_software(request, qs)
    return qs


def host_context(rows: list[Host]) -> dict[str, Any]:
    return {"seen": host_last_seen(rows), "statuses": live.statuses_of(rows)}


def render_hosts(rows: list[Host]) -> list[dict[str, Any]]:
    return HostSerializer(rows, many=True, context=host_context(rows)).data


def render_host_detail(host: Host) -> dict[str, Any]:
    host.detail_labels = list(  # type: ignore[attr-defined]
        Label.objects.filter(Q(hosts=host) | Q(builtin_platform="all") | Q(builtin_platform=host.platform)).distinct()
    )
    label_ids = [label.pk for label in host.detail_labels]  # type: ignore[attr-defined]
    host.detail_packs = list(  # type: ignore[attr-defined]
        Pack.objects.filter(Q(target_hosts=host) | Q(target_labels__in=label_ids)).distinct()
    )
    host.detail_policies = live.host_policies(host)  # type: ignore[attr-defined]
    data = dict(HostDetailSerializer(host, context=host_context([host])).data)
    data.update(live.host_inventory(host))
    return data


class HostListView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="hosts_list",
        parameters=HOST_FILTERS,
        responses=responses(wrapped("HostList", "hosts", HostSerializer, many=True)),
    )
    def get(self, request: Request) -> Response:
        page = paginate(request, filtered_hosts(request), HOST_ORDER, "hostname")
        return Response({"hosts": render_hosts(page.rows)})


class HostCountView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="hosts_count",
        parameters=HOST_FILTERS,
        responses=responses(inline_serializer("HostCount", {"count": serializers.IntegerField()})),
    )
    def get(self, request: Request) -> Response:
        return Response({"count": filtered_hosts(request).count()})


def _host(host_id: int) -> Host:
    return get_object_or_404(Host.objects.select_related("enroll_secret"), pk=host_id)


def _host_by_identifier(identifier: str) -> Host:
    host = host_by_identifier(identifier)
    if host is None:
        raise ApiError(f"no host with identifier {identifier!r}", status_code=404)
    return host


class HostDetailView(ApiView):
    permission_classes = [CanRead]

    def get_permissions(self) -> list[Any]:
        return [AdminOnly()] if self.request.method == "DELETE" else [CanRead()]

    @extend_schema(operation_id="hosts_get", responses=responses(wrapped("HostGet", "host", HostDetailSerializer)))
    def get(self, request: Request, host_id: int) -> Response:
        return Response({"host": render_host_detail(_host(host_id))})

    @extend_schema(operation_id="hosts_delete", responses=responses(EMPTY))
    def delete(self, request: Request, host_id: int) -> Response:
        host = _host(host_id)
        live.host_deleted_activity(actor=request.user, host=host)
        host_delete(host=host)
        return Response({})


class HostByIdentifierView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="hosts_get_by_identifier",
        responses=responses(wrapped("HostGetByIdentifier", "host", HostDetailSerializer)),
    )
    def get(self, request: Request, identifier: str) -> Response:
        return Response({"host": render_host_detail(_host_by_identifier(identifier))})


class HostRefetchView(ApiView):
    permission_classes = [CanRunLiveQueries]

    @extend_schema(operation_id="hosts_refetch", request=None, responses=responses(EMPTY))
    def post(self, request: Request, host_id: int) -> Response:
        live.host_refetch(_host(host_id))
        return Response({})


class HostSoftwareView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(operation_id="hosts_software", responses=responses(live.HOST_SOFTWARE_RESPONSE))
    def get(self, request: Request, host_id: int) -> Response:
        host = _host(host_id)
        return Response({"software": live.host_software(host), "meta": {}})


class HostUsersView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(operation_id="hosts_users", responses=responses(live.HOST_USERS_RESPONSE))
    def get(self, request: Request, host_id: int) -> Response:
        return Response({"users": live.host_users(_host(host_id))})


class HostPoliciesView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(operation_id="hosts_policies", responses=responses(live.HOST_POLICIES_RESPONSE))
    def get(self, request: Request, host_id: int) -> Response:
        policies = live.host_policies(_host(host_id))
        return Response({"policies": HostPolicySerializer(policies, many=True).data})


class HostLabelsInSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField(), allow_empty=False)


class HostLabelsView(ApiView):
    """Add a host to, or remove it from, manual labels by name."""

    permission_classes = [CanManageQueries]

    def _labels(self, request: Request) -> list[Label]:
        names = self.body(request, HostLabelsInSerializer).validated_data["labels"]
        labels = list(Label.objects.filter(name__in=names))
        missing = sorted(set(names) - {label.name for label in labels})
        if missing:
            raise ApiError(f"unknown label name(s): {', '.join(missing)}", name="labels", status_code=422)
        return labels

    @extend_schema(operation_id="hosts_labels_add", request=HostLabelsInSerializer, responses=responses(EMPTY))
    def post(self, request: Request, host_id: int) -> Response:
        host = _host(host_id)
        host_labels_change(actor=request.user, host=host, labels=self._labels(request), add=True)
        return Response({})

    @extend_schema(operation_id="hosts_labels_remove", request=HostLabelsInSerializer, responses=responses(EMPTY))
    def delete(self, request: Request, host_id: int) -> Response:
        host = _host(host_id)
        host_labels_change(actor=request.user, host=host, labels=self._labels(request), add=False)
        return Response({})


class HostQueryInSerializer(serializers.Serializer):
    query = serializers.CharField()


class HostQueryOutSerializer(serializers.Serializer):
    host_id = serializers.IntegerField()
    query = serializers.CharField()
    status = serializers.ChoiceField(choices=["online", "offline"])
    error = serializers.CharField(allow_null=True)
    rows = serializers.ListField(child=serializers.DictField(), allow_null=True)


class _HostQueryBase(ApiView):
    permission_classes = [CanRunLiveQueries]

    def run(self, request: Request, host: Host) -> Response:
        sql = self.body(request, HostQueryInSerializer).validated_data["query"]
        if not sql.strip():
            raise ApiError("query must not be empty", name="query")
        return Response(live.host_query_sync(host=host, sql=sql, user=request.user))


class HostQueryView(_HostQueryBase):
    @extend_schema(
        operation_id="hosts_query", request=HostQueryInSerializer, responses=responses(HostQueryOutSerializer)
    )
    def post(self, request: Request, host_id: int) -> Response:
        return self.run(request, _host(host_id))


class HostQueryByIdentifierView(_HostQueryBase):
    @extend_schema(
        operation_id="hosts_query_by_identifier",
        request=HostQueryInSerializer,
        responses=responses(HostQueryOutSerializer),
    )
    def post(self, request: Request, identifier: str) -> Response:
        return self.run(request, _host_by_identifier(identifier))


class LabelHostsView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="labels_hosts",
        parameters=HOST_FILTERS,
        responses=responses(wrapped("LabelHosts", "hosts", HostSerializer, many=True)),
    )
    def get(self, request: Request, label_id: int) -> Response:
        label = get_object_or_404(Label, pk=label_id)
        qs = filtered_hosts(request, label_hosts(label))
        page = paginate(request, qs, HOST_ORDER, "hostname")
        return Response({"hosts": render_hosts(page.rows)})


SOFTWARE_ORDER = ("name", "version", "source", "hosts_count", "id")


class SoftwareListView(ApiView):
    """Software inventory across hosts, one row per name/version/source, with host counts."""

    permission_classes = [CanRead]

    @extend_schema(
        operation_id="software_list",
        parameters=list_parameters(list(SOFTWARE_ORDER), search="name or version substring"),
        responses=responses(live.SOFTWARE_LIST_RESPONSE),
    )
    def get(self, request: Request) -> Response:
        items = live.software_inventory(request)
        key = request.query_params.get("order_key") or "name"
        if key not in SOFTWARE_ORDER:
            raise ApiError(
                f"order_key {key!r} is not supported; use one of: {', '.join(SOFTWARE_ORDER)}", name="order_key"
            )
        direction = request.query_params.get("order_direction") or "asc"
        if direction not in ("asc", "desc"):
            raise ApiError("order_direction must be asc or desc", name="order_direction")
        items.sort(key=lambda item: (item[key], item["id"]), reverse=direction == "desc")
        page = _int(request, "page")
        per_page = _int(request, "per_page")
        if (page is not None and page < 0) or (per_page is not None and per_page < 1):
            raise ApiError(
                "page must be >= 0 and per_page >= 1", name="page" if page is not None and page < 0 else "per_page"
            )
        if page is not None or per_page is not None:
            size = per_page or 20
            start = (page or 0) * size
            items = items[start : start + size]
        return Response({"software": items, "counts_updated_at": timezone.now()})


class HostDeleteManyIn(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=10_000)


class HostDeleteManyView(ApiView):
    """Fleet's POST /hosts/delete with a list of ids (filters are not supported)."""

    permission_classes = [AdminOnly]

    @extend_schema(operation_id="hosts_delete_many", request=HostDeleteManyIn, responses=responses(EMPTY))
    def post(self, request: Request) -> Response:
        ids = self.body(request, HostDeleteManyIn).validated_data["ids"]
        hosts = list(Host.objects.filter(pk__in=ids))
        missing = sorted(set(ids) - {h.pk for h in hosts})
        if missing:
            raise ApiError(f"unknown host id(s): {missing}", name="ids", status_code=422)
        with transaction.atomic():
            for host in hosts:
                live.host_deleted_activity(actor=request.user, host=host)
                host_delete(host=host)
        return Response({})


class HostSummaryView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="host_summary",
        responses=responses(
            inline_serializer(
                "HostSummary",
                {
                    "totals_hosts_count": serializers.IntegerField(),
                    "online_count": serializers.IntegerField(),
                    "offline_count": serializers.IntegerField(),
                    "mia_count": serializers.IntegerField(),
                    "missing_30_days_count": serializers.IntegerField(),
                    "new_count": serializers.IntegerField(),
                    "platforms": serializers.ListField(child=serializers.DictField()),
                },
            )
        ),
    )
    def get(self, request: Request) -> Response:
        counts = host_status_summary(timezone.now())
        platforms = Host.objects.values("platform").annotate(hosts_count=Count("id")).order_by("platform")
        return Response(
            {
                "totals_hosts_count": counts["total"],
                "online_count": counts["online"],
                "offline_count": counts["offline"],
                "mia_count": counts["missing"],
                "missing_30_days_count": counts["missing"],
                "new_count": counts["new"],
                "platforms": [{"platform": p["platform"], "hosts_count": p["hosts_count"]} for p in platforms],
            }
        )
