"""Live queries: campaigns across many hosts (fleetctl query) and the synchronous saved-query run.

Fleet streams campaign results over a websocket; fleetweb serves them as a plain JSON poll with
an offset (GET /queries/run/{campaign_id}?offset=N), which any HTTP client can follow.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import is_admin
from hosts.models import Host
from queries.models import Campaign, Label, Query

from .. import live
from ..errors import ApiError
from ..permissions import CanRunLiveQueries
from ..serializers import host_by_identifier
from .base import EMPTY, ApiView, responses


class SelectedIn(serializers.Serializer):
    hosts = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    labels = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    teams = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class RunIn(serializers.Serializer):
    query = serializers.CharField(required=False, allow_blank=True)
    query_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    selected = SelectedIn()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("query_id"):
            query = Query.objects.filter(pk=attrs["query_id"]).first()
            if query is None:
                raise serializers.ValidationError({"query_id": f"no query with id {attrs['query_id']}"})
            attrs["sql"] = query.sql
        elif (attrs.get("query") or "").strip():
            attrs["sql"] = attrs["query"]
        else:
            raise serializers.ValidationError({"query": "send the SQL in query, or a saved query's query_id"})
        if attrs["selected"].get("teams"):
            raise serializers.ValidationError({"selected.teams": "teams are not supported"})
        return attrs


class CampaignOut(serializers.Serializer):
    id = serializers.IntegerField()
    query_id = serializers.IntegerField(allow_null=True)
    query = serializers.CharField(source="sql")
    status = serializers.CharField()
    user_id = serializers.IntegerField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    metrics = serializers.SerializerMethodField()

    def get_metrics(self, campaign: Campaign) -> dict[str, int]:
        totals = live.campaign_totals(campaign)
        return {
            "TotalHosts": totals["count"],
            "OnlineHosts": totals["online"],
            "OfflineHosts": totals["offline"],
            "MissingInActionHosts": totals["missing_in_action"],
            "NewHosts": 0,
        }


RUN_OUT = inline_serializer("CampaignCreated", {"campaign": CampaignOut()})


def _launch(request: Request, data: dict[str, Any], host_ids: set[int], spec: dict[str, Any]) -> Response:
    if not host_ids:
        raise ApiError("no hosts targeted", name="selected")
    campaign = live.campaign_create(sql=data["sql"], host_ids=host_ids, user=request.user, targets_spec=spec)
    if data.get("query_id"):
        Campaign.objects.filter(pk=campaign.pk).update(query_id=data["query_id"])
        campaign.query_id = data["query_id"]
    return Response({"campaign": CampaignOut(campaign).data})


def _int_list(values: list[Any], field: str) -> list[int]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise serializers.ValidationError({field: f"expected integer ids, got {value!r}"})
        out.append(value)
    return out


class RunView(ApiView):
    permission_classes = [CanRunLiveQueries]

    @extend_schema(operation_id="queries_run", request=RunIn, responses=responses(RUN_OUT))
    def post(self, request: Request) -> Response:
        data = self.body(request, RunIn).validated_data
        host_ids = set(_int_list(data["selected"]["hosts"], "selected.hosts"))
        label_ids = _int_list(data["selected"]["labels"], "selected.labels")
        known = set(Host.objects.filter(pk__in=host_ids).values_list("pk", flat=True))
        if host_ids - known:
            raise ApiError(f"unknown host id(s): {sorted(host_ids - known)}", name="selected.hosts", status_code=422)
        labels = list(Label.objects.filter(pk__in=label_ids))
        if len(labels) != len(set(label_ids)):
            missing = sorted(set(label_ids) - {label.pk for label in labels})
            raise ApiError(f"unknown label id(s): {missing}", name="selected.labels", status_code=422)
        targets = known | live.host_ids_for_labels(labels)
        return _launch(request, data, targets, {"hosts": sorted(known), "labels": label_ids})


class RunByIdentifiersView(ApiView):
    permission_classes = [CanRunLiveQueries]

    @extend_schema(operation_id="queries_run_by_identifiers", request=RunIn, responses=responses(RUN_OUT))
    def post(self, request: Request) -> Response:
        data = self.body(request, RunIn).validated_data
        idents = [str(v) for v in data["selected"]["hosts"]]
        names = [str(v) for v in data["selected"]["labels"]]
        host_ids: set[int] = set()
        unknown_hosts = []
        for ident in idents:
            host = host_by_identifier(ident)
            if host is None:
                unknown_hosts.append(ident)
            else:
                host_ids.add(host.pk)
        if unknown_hosts:
            raise ApiError(f"unknown host identifier(s): {', '.join(unknown_hosts)}", name="selected.hosts")
        labels = list(Label.objects.filter(name__in=names))
        missing = sorted(set(names) - {label.name for label in labels})
        if missing:
            raise ApiError(f"[{', '.join(missing)}] Invalid label name(s)", name="selected.labels")
        targets = host_ids | live.host_ids_for_labels(labels)
        return _launch(request, data, targets, {"hosts": idents, "labels": names})


CAMPAIGN_RESULTS_OUT = inline_serializer(
    "CampaignResults",
    {
        "campaign": CampaignOut(),
        "totals": serializers.DictField(),
        "results": serializers.ListField(child=serializers.DictField()),
        "offset": serializers.IntegerField(),
    },
)


class CampaignView(ApiView):
    permission_classes = [CanRunLiveQueries]

    def _campaign(self, request: Request, campaign_id: int) -> Campaign:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        # Only the user who launched a campaign (or an admin) may read its results.
        if campaign.created_by_id != request.user.pk and not is_admin(request.user):
            raise ApiError(f"no campaign with id {campaign_id}", status_code=404)
        return campaign

    @extend_schema(
        operation_id="queries_run_results",
        parameters=[OpenApiParameter("offset", OpenApiTypes.INT, description="results already read")],
        responses=responses(CAMPAIGN_RESULTS_OUT),
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = self._campaign(request, campaign_id)
        raw = request.query_params.get("offset") or "0"
        if not raw.isdigit():
            raise ApiError(f"offset must be a non-negative integer, got {raw!r}", name="offset")
        offset = int(raw)
        results = live.campaign_results(campaign, offset)
        totals = live.campaign_totals(campaign)
        return Response(
            {
                "campaign": CampaignOut(campaign).data,
                "totals": totals,
                "results": results,
                "offset": offset + len(results),
            }
        )

    @extend_schema(operation_id="queries_run_stop", responses=responses(EMPTY))
    def delete(self, request: Request, campaign_id: int) -> Response:
        live.campaign_stop(campaign=self._campaign(request, campaign_id), user=request.user)
        return Response({})


class SavedQueryRunIn(serializers.Serializer):
    host_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)


SAVED_RUN_OUT = inline_serializer(
    "SavedQueryRun",
    {
        "query_id": serializers.IntegerField(),
        "targeted_host_count": serializers.IntegerField(),
        "responded_host_count": serializers.IntegerField(),
        "results": serializers.ListField(child=serializers.DictField()),
    },
)


class SavedQueryRunView(ApiView):
    """Fleet 4.43+'s POST /queries/{id}/run: run a saved query on hosts and wait for answers."""

    permission_classes = [CanRunLiveQueries]

    @extend_schema(operation_id="queries_run_saved", request=SavedQueryRunIn, responses=responses(SAVED_RUN_OUT))
    def post(self, request: Request, query_id: int) -> Response:
        query = get_object_or_404(Query, pk=query_id)
        ids = self.body(request, SavedQueryRunIn).validated_data["host_ids"]
        hosts = list(Host.objects.filter(pk__in=ids))
        if len(hosts) != len(set(ids)):
            missing = sorted(set(ids) - {h.pk for h in hosts})
            raise ApiError(f"unknown host id(s): {missing}", name="host_ids", status_code=422)
        results = live.hosts_query_sync(hosts=hosts, sql=query.sql, user=request.user)
        responded = sum(1 for r in results if r["responded"])
        return Response(
            {
                "query_id": query.pk,
                "targeted_host_count": len(hosts),
                "responded_host_count": responded,
                "results": [{"host_id": r["host_id"], "rows": r["rows"], "error": r["error"]} for r in results],
            }
        )
