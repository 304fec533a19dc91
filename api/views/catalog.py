"""Queries, packs with their scheduled queries, labels and policies."""

from typing import Any

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from queries import services
from queries.models import Label, Pack, Policy, Query, ScheduledQuery

from .. import live
from ..listing import list_parameters, paginate
from ..permissions import ReadOrManageQueries
from ..serializers import (
    LabelInSerializer,
    LabelSerializer,
    PackInSerializer,
    PackSerializer,
    PolicyInSerializer,
    PolicySerializer,
    QueryInSerializer,
    QuerySerializer,
    ScheduledQueryInSerializer,
    ScheduledQuerySerializer,
)
from .base import EMPTY, ApiView, responses, wrapped

NAMED_ORDER = {"id": "id", "name": "name", "created_at": "created_at", "updated_at": "updated_at"}


def _search(request: Request, qs: Any, *fields: str) -> Any:
    term = request.query_params.get("query", "").strip()
    if not term:
        return qs
    cond = Q()
    for field in fields:
        cond |= Q(**{f"{field}__icontains": term})
    return qs.filter(cond)


class DeleteIdsIn(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)


DELETED = inline_serializer("Deleted", {"deleted": serializers.IntegerField()})


# ---- queries ---------------------------------------------------------------------------------


def _render_queries(rows: list[Query]) -> Any:
    # One query for every row's packs, not one per row.
    packs: dict[int, dict[int, Pack]] = {}
    for sq in ScheduledQuery.objects.filter(query__in=rows).select_related("pack"):
        packs.setdefault(sq.query_id, {})[sq.pack_id] = sq.pack
    for query in rows:
        query.pack_list = sorted(packs.get(query.pk, {}).values(), key=lambda p: p.name)  # type: ignore[attr-defined]
    return QuerySerializer(rows, many=True).data


def _render_query(query: Query) -> Any:
    return _render_queries([query])[0]


class QueryListView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="queries_list",
        parameters=list_parameters(list(NAMED_ORDER), search="name or SQL substring"),
        responses=responses(wrapped("QueryList", "queries", QuerySerializer, many=True)),
    )
    def get(self, request: Request) -> Response:
        page = paginate(request, _search(request, Query.objects.all(), "name", "sql"), NAMED_ORDER, "name")
        return Response({"queries": _render_queries(page.rows), "meta": page.meta})

    @extend_schema(
        operation_id="queries_create",
        request=QueryInSerializer,
        responses=responses(wrapped("QueryCreated", "query", QuerySerializer)),
    )
    def post(self, request: Request) -> Response:
        data = self.body(request, QueryInSerializer)
        query = services.query_save(actor=request.user, fields=data.fields_for_model())
        return Response({"query": _render_query(query)})


class QueryDetailView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="queries_get", responses=responses(wrapped("QueryGet", "query", QuerySerializer)))
    def get(self, request: Request, query_id: int) -> Response:
        return Response({"query": _render_query(get_object_or_404(Query, pk=query_id))})

    @extend_schema(
        operation_id="queries_update",
        request=QueryInSerializer(partial=True),
        responses=responses(wrapped("QueryUpdated", "query", QuerySerializer)),
    )
    def patch(self, request: Request, query_id: int) -> Response:
        query = get_object_or_404(Query, pk=query_id)
        data = self.body(request, QueryInSerializer, partial=True)
        query = services.query_save(actor=request.user, fields=data.fields_for_model(), query=query)
        return Response({"query": _render_query(query)})


class QueryDeleteByIdView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="queries_delete_by_id", responses=responses(EMPTY))
    def delete(self, request: Request, query_id: int) -> Response:
        services.query_delete(actor=request.user, query=get_object_or_404(Query, pk=query_id))
        return Response({})


class QueryDeleteByNameView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="queries_delete_by_name", responses=responses(EMPTY))
    def delete(self, request: Request, name: str) -> Response:
        services.query_delete(actor=request.user, query=get_object_or_404(Query, name=name))
        return Response({})


class QueryDeleteManyView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="queries_delete_many", request=DeleteIdsIn, responses=responses(DELETED))
    def post(self, request: Request) -> Response:
        ids = self.body(request, DeleteIdsIn).validated_data["ids"]
        queries = list(Query.objects.filter(pk__in=ids))
        for query in queries:
            services.query_delete(actor=request.user, query=query)
        return Response({"deleted": len(queries)})


# ---- packs -----------------------------------------------------------------------------------


def _pack_targets(data: Any) -> dict[str, Any]:
    return {"label_ids": data.validated_data.get("label_ids"), "host_ids": data.validated_data.get("host_ids")}


class PackListView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="packs_list",
        parameters=list_parameters(list(NAMED_ORDER), search="name substring"),
        responses=responses(wrapped("PackList", "packs", PackSerializer, many=True)),
    )
    def get(self, request: Request) -> Response:
        page = paginate(request, _search(request, Pack.objects.all(), "name"), NAMED_ORDER, "name")
        return Response({"packs": PackSerializer(page.rows, many=True).data})

    @extend_schema(
        operation_id="packs_create",
        request=PackInSerializer,
        responses=responses(wrapped("PackCreated", "pack", PackSerializer)),
    )
    def post(self, request: Request) -> Response:
        data = self.body(request, PackInSerializer)
        pack = services.pack_save(actor=request.user, fields=data.fields_for_model(), **_pack_targets(data))
        return Response({"pack": PackSerializer(pack).data})


class PackDetailView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="packs_get", responses=responses(wrapped("PackGet", "pack", PackSerializer)))
    def get(self, request: Request, pack_id: int) -> Response:
        return Response({"pack": PackSerializer(get_object_or_404(Pack, pk=pack_id)).data})

    @extend_schema(
        operation_id="packs_update",
        request=PackInSerializer(partial=True),
        responses=responses(wrapped("PackUpdated", "pack", PackSerializer)),
    )
    def patch(self, request: Request, pack_id: int) -> Response:
        pack = get_object_or_404(Pack, pk=pack_id)
        data = self.body(request, PackInSerializer, partial=True)
        pack = services.pack_save(actor=request.user, fields=data.fields_for_model(), pack=pack, **_pack_targets(data))
        return Response({"pack": PackSerializer(pack).data})


class PackDeleteByIdView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="packs_delete_by_id", responses=responses(EMPTY))
    def delete(self, request: Request, pack_id: int) -> Response:
        services.pack_delete(actor=request.user, pack=get_object_or_404(Pack, pk=pack_id))
        return Response({})


class PackDeleteByNameView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="packs_delete_by_name", responses=responses(EMPTY))
    def delete(self, request: Request, name: str) -> Response:
        services.pack_delete(actor=request.user, pack=get_object_or_404(Pack, name=name))
        return Response({})


class PackScheduledView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="packs_scheduled",
        responses=responses(wrapped("PackScheduled", "scheduled", ScheduledQuerySerializer, many=True)),
    )
    def get(self, request: Request, pack_id: int) -> Response:
        pack = get_object_or_404(Pack, pk=pack_id)
        rows = ScheduledQuery.objects.filter(pack=pack).select_related("query").order_by("name", "id")
        return Response({"scheduled": ScheduledQuerySerializer(rows, many=True).data})


class ScheduleCreateView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="packs_schedule_create",
        request=ScheduledQueryInSerializer,
        responses=responses(wrapped("ScheduledCreated", "scheduled", ScheduledQuerySerializer)),
    )
    def post(self, request: Request) -> Response:
        data = self.body(request, ScheduledQueryInSerializer)
        for required in ("pack_id", "query_id"):
            if required not in data.validated_data:
                raise serializers.ValidationError({required: "This field is required."})
        fields = data.fields_for_model()
        fields.setdefault("logging", ScheduledQuery.Logging.DIFFERENTIAL)
        scheduled = services.scheduled_query_save(actor=request.user, fields=fields)
        return Response({"scheduled": ScheduledQuerySerializer(scheduled).data})


class ScheduleDetailView(ApiView):
    permission_classes = [ReadOrManageQueries]

    def _get(self, scheduled_id: int) -> ScheduledQuery:
        return get_object_or_404(ScheduledQuery.objects.select_related("query", "pack"), pk=scheduled_id)

    @extend_schema(
        operation_id="packs_schedule_get",
        responses=responses(wrapped("ScheduledGet", "scheduled", ScheduledQuerySerializer)),
    )
    def get(self, request: Request, scheduled_id: int) -> Response:
        return Response({"scheduled": ScheduledQuerySerializer(self._get(scheduled_id)).data})

    @extend_schema(
        operation_id="packs_schedule_update",
        request=ScheduledQueryInSerializer,
        responses=responses(wrapped("ScheduledUpdated", "scheduled", ScheduledQuerySerializer)),
    )
    def patch(self, request: Request, scheduled_id: int) -> Response:
        scheduled = self._get(scheduled_id)
        data = self.body(request, ScheduledQueryInSerializer, partial=True)
        fields = data.fields_for_model(current=scheduled)
        scheduled = services.scheduled_query_save(actor=request.user, fields=fields, scheduled=scheduled)
        return Response({"scheduled": ScheduledQuerySerializer(scheduled).data})

    @extend_schema(operation_id="packs_schedule_delete", responses=responses(EMPTY))
    def delete(self, request: Request, scheduled_id: int) -> Response:
        services.scheduled_query_delete(actor=request.user, scheduled=self._get(scheduled_id))
        return Response({})


# ---- labels ----------------------------------------------------------------------------------


class LabelListView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="labels_list",
        parameters=list_parameters(list(NAMED_ORDER), search="name substring"),
        responses=responses(wrapped("LabelList", "labels", LabelSerializer, many=True)),
    )
    def get(self, request: Request) -> Response:
        page = paginate(request, _search(request, Label.objects.all(), "name"), NAMED_ORDER, "name")
        return Response({"labels": LabelSerializer(page.rows, many=True).data})

    @extend_schema(
        operation_id="labels_create",
        request=LabelInSerializer,
        responses=responses(wrapped("LabelCreated", "label", LabelSerializer)),
    )
    def post(self, request: Request) -> Response:
        data = self.body(request, LabelInSerializer)
        label = services.label_save(actor=request.user, fields=data.fields_for_model(), host_ids=data.host_id_list())
        return Response({"label": LabelSerializer(label).data})


class LabelSummaryView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="labels_summary",
        responses=responses(
            inline_serializer(
                "LabelSummary",
                {
                    "labels": inline_serializer(
                        "LabelSummaryItem",
                        {
                            "id": serializers.IntegerField(),
                            "name": serializers.CharField(),
                            "description": serializers.CharField(),
                            "label_type": serializers.CharField(),
                        },
                        many=True,
                    )
                },
            )
        ),
    )
    def get(self, request: Request) -> Response:
        labels = [
            {
                "id": label.pk,
                "name": label.name,
                "description": label.description,
                "label_type": "builtin" if label.is_builtin else "regular",
            }
            for label in Label.objects.order_by("name")
        ]
        return Response({"labels": labels})


class LabelDetailView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="labels_get", responses=responses(wrapped("LabelGet", "label", LabelSerializer)))
    def get(self, request: Request, label_id: int) -> Response:
        return Response({"label": LabelSerializer(get_object_or_404(Label, pk=label_id)).data})

    @extend_schema(
        operation_id="labels_update",
        request=LabelInSerializer(partial=True),
        responses=responses(wrapped("LabelUpdated", "label", LabelSerializer)),
    )
    def patch(self, request: Request, label_id: int) -> Response:
        label = get_object_or_404(Label, pk=label_id)
        data = self.body(request, LabelInSerializer, partial=True, instance=label)
        fields = data.fields_for_model()
        if "membership" in fields and fields["membership"] != label.membership:
            raise serializers.ValidationError({"label_membership_type": "a label's membership type cannot change"})
        label = services.label_save(actor=request.user, fields=fields, label=label, host_ids=data.host_id_list())
        return Response({"label": LabelSerializer(label).data})


class LabelDeleteByIdView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="labels_delete_by_id", responses=responses(EMPTY))
    def delete(self, request: Request, label_id: int) -> Response:
        services.label_delete(actor=request.user, label=get_object_or_404(Label, pk=label_id))
        return Response({})


class LabelDeleteByNameView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="labels_delete_by_name", responses=responses(EMPTY))
    def delete(self, request: Request, name: str) -> Response:
        services.label_delete(actor=request.user, label=get_object_or_404(Label, name=name))
        return Response({})


# ---- policies --------------------------------------------------------------------------------


def _render_policies(rows: list[Policy]) -> Any:
    return PolicySerializer(rows, many=True, context={"policy_counts": live.policy_counts()}).data


class PolicyListView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="policies_list",
        parameters=list_parameters(list(NAMED_ORDER), search="name substring"),
        responses=responses(wrapped("PolicyList", "policies", PolicySerializer, many=True)),
    )
    def get(self, request: Request) -> Response:
        page = paginate(request, _search(request, Policy.objects.all(), "name"), NAMED_ORDER, "name")
        return Response({"policies": _render_policies(page.rows)})

    @extend_schema(
        operation_id="policies_create",
        request=PolicyInSerializer,
        responses=responses(wrapped("PolicyCreated", "policy", PolicySerializer)),
    )
    def post(self, request: Request) -> Response:
        data = self.body(request, PolicyInSerializer)
        policy = services.policy_save(actor=request.user, fields=data.fields_for_model())
        return Response({"policy": _render_policies([policy])[0]})


class PolicyCountView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(
        operation_id="policies_count",
        responses=responses(inline_serializer("PolicyCount", {"count": serializers.IntegerField()})),
    )
    def get(self, request: Request) -> Response:
        return Response({"count": _search(request, Policy.objects.all(), "name").count()})


class PolicyDetailView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="policies_get", responses=responses(wrapped("PolicyGet", "policy", PolicySerializer)))
    def get(self, request: Request, policy_id: int) -> Response:
        return Response({"policy": _render_policies([get_object_or_404(Policy, pk=policy_id)])[0]})

    @extend_schema(
        operation_id="policies_update",
        request=PolicyInSerializer(partial=True),
        responses=responses(wrapped("PolicyUpdated", "policy", PolicySerializer)),
    )
    def patch(self, request: Request, policy_id: int) -> Response:
        policy = get_object_or_404(Policy, pk=policy_id)
        data = self.body(request, PolicyInSerializer, partial=True, instance=policy)
        policy = services.policy_save(actor=request.user, fields=data.fields_for_model(), policy=policy)
        return Response({"policy": _render_policies([policy])[0]})


class PolicyDeleteManyView(ApiView):
    permission_classes = [ReadOrManageQueries]

    @extend_schema(operation_id="policies_delete_many", request=DeleteIdsIn, responses=responses(DELETED))
    def post(self, request: Request) -> Response:
        ids = self.body(request, DeleteIdsIn).validated_data["ids"]
        deleted = services.policies_delete(actor=request.user, policies=list(Policy.objects.filter(pk__in=ids)))
        return Response({"deleted": deleted})
