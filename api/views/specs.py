"""Spec endpoints: apply and export Fleet-style YAML specs through the spec engine.

Fleet's per-kind routes (POST/GET /spec/queries, /spec/packs, /spec/labels, POST /spec/policies)
take JSON lists of specs; fleetweb also serves /spec/apply, which takes the YAML text itself so
errors can name the file and line (fleetctl apply uses it).
"""

from typing import Any

import yaml
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import can_manage_queries, is_admin
from accounts.services import activity_record
from queries.specs import EXPORT_KINDS, SpecError, apply_spec_text, export_specs

from ..errors import ApiError
from ..permissions import Authenticated, CanRead, ReadOrManageQueries
from .base import ApiView, responses

ADMIN_KINDS = {"config", "options", "enroll_secret"}
MAX_SPEC_BYTES = 8 * 1024 * 1024


class ApplyIn(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, allow_blank=True)
    filename = serializers.CharField(required=False, default="spec.yml", max_length=1024)
    dry_run = serializers.BooleanField(required=False, default=False)


APPLY_OUT = inline_serializer(
    "ApplyReport",
    {
        "file": serializers.CharField(),
        "dry_run": serializers.BooleanField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "objects": serializers.ListField(child=serializers.DictField()),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)


def _kinds_in(text: str) -> set[str]:
    """The kinds a spec file names, for the role check. Unparseable text yields no kinds: the
    apply below then reports the YAML error with its line."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return set()
    return {str(doc.get("kind")) for doc in docs if isinstance(doc, dict)}


def check_apply_allowed(request: Request, kinds: set[str]) -> None:
    if not can_manage_queries(request.user):
        raise ApiError("your role cannot apply specs", status_code=403)
    admin_only = sorted(kinds & ADMIN_KINDS)
    if admin_only and not is_admin(request.user):
        raise ApiError(f"only admins can apply {', '.join(admin_only)} specs", status_code=403)


def apply_text(request: Request, text: str, filename: str, dry_run: bool) -> dict[str, Any]:
    if len(text.encode()) > MAX_SPEC_BYTES:
        raise ApiError(f"spec text is larger than {MAX_SPEC_BYTES} bytes", status_code=413)
    check_apply_allowed(request, _kinds_in(text))
    try:
        report = apply_spec_text(text, filename, dry_run=dry_run)
    except SpecError as exc:
        raise ApiError(exc.message, status_code=422, name=f"{exc.filename}:{exc.line}") from None
    except yaml.YAMLError as exc:
        # Characters YAML forbids outright (control characters) fail before any document is read.
        line = text.count("\n", 0, getattr(exc, "position", 0)) + 1
        raise ApiError(f"invalid YAML: {exc}", status_code=422, name=f"{filename}:{line}") from None
    if not dry_run and report.changed:
        activity_record(
            actor=request.user, action="applied_spec", details={"file": filename, "counts": report.counts()}
        )
    return report.to_dict()


class SpecApplyView(ApiView):
    """Apply a YAML spec file. Query, pack, label and policy documents need admin or maintainer;
    config and enroll_secret documents need admin. Errors name the file and line."""

    permission_classes = [Authenticated]

    @extend_schema(operation_id="spec_apply", request=ApplyIn, responses=responses(APPLY_OUT))
    def post(self, request: Request) -> Response:
        data = self.body(request, ApplyIn).validated_data
        dry_run = data["dry_run"] or request.query_params.get("dry_run") in ("1", "true")
        return Response(apply_text(request, data["text"], data["filename"], dry_run))


EXPORT_OUT = inline_serializer("SpecExport", {"specs": serializers.ListField(child=serializers.DictField())})


class SpecExportView(ApiView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="spec_export",
        parameters=[
            OpenApiParameter("kinds", OpenApiTypes.STR, description=f"comma list of {', '.join(EXPORT_KINDS)}")
        ],
        responses=responses(EXPORT_OUT),
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("kinds") or ",".join(k for k in EXPORT_KINDS if k != "enroll_secret")
        kinds = [k.strip() for k in raw.split(",") if k.strip()]
        unknown = sorted(set(kinds) - set(EXPORT_KINDS))
        if unknown:
            raise ApiError(f"unknown kind(s) {', '.join(unknown)}; use {', '.join(EXPORT_KINDS)}", name="kinds")
        if "enroll_secret" in kinds and not is_admin(request.user):
            raise ApiError("only admins can read enroll secrets", status_code=403)
        return Response({"specs": export_specs(kinds)})


class SpecListIn(serializers.Serializer):
    specs = serializers.ListField(child=serializers.DictField(), allow_empty=False)
    dry_run = serializers.BooleanField(required=False, default=False)


def _kind_view(kind: str, plural: str, *, gettable: bool = True) -> type[ApiView]:
    """Fleet's POST/GET /spec/<plural> for one kind."""

    class KindSpecView(ApiView):
        permission_classes = [ReadOrManageQueries]

        @extend_schema(operation_id=f"spec_{plural}_apply", request=SpecListIn, responses=responses(APPLY_OUT))
        def post(self, request: Request) -> Response:
            data = self.body(request, SpecListIn).validated_data
            text = yaml.safe_dump_all(
                [{"apiVersion": "v1", "kind": kind, "spec": spec} for spec in data["specs"]], sort_keys=False
            )
            return Response(apply_text(request, text, f"{plural}.json", data["dry_run"]))

        if gettable:

            @extend_schema(operation_id=f"spec_{plural}_get", responses=responses(EXPORT_OUT))
            def get(self, request: Request) -> Response:
                return Response({"specs": [doc["spec"] for doc in export_specs([kind])]})

    KindSpecView.__name__ = f"{kind.title()}SpecView"
    KindSpecView.__qualname__ = KindSpecView.__name__
    return KindSpecView


def _kind_one_view(kind: str, plural: str) -> type[ApiView]:
    class KindSpecOneView(ApiView):
        permission_classes = [CanRead]

        @extend_schema(
            operation_id=f"spec_{plural}_get_one",
            responses=responses(inline_serializer(f"{kind.title()}SpecOne", {"specs": serializers.DictField()})),
        )
        def get(self, request: Request, name: str) -> Response:
            for doc in export_specs([kind]):
                if doc["spec"].get("name") == name:
                    return Response({"specs": doc["spec"]})
            raise ApiError(f"no {kind} named {name!r}", status_code=404)

    KindSpecOneView.__name__ = f"{kind.title()}SpecOneView"
    KindSpecOneView.__qualname__ = KindSpecOneView.__name__
    return KindSpecOneView


QuerySpecView = _kind_view("query", "queries")
PackSpecView = _kind_view("pack", "packs")
LabelSpecView = _kind_view("label", "labels")
PolicySpecView = _kind_view("policy", "policies")
QuerySpecOneView = _kind_one_view("query", "queries")
PackSpecOneView = _kind_one_view("pack", "packs")
LabelSpecOneView = _kind_one_view("label", "labels")


class ConvertIn(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False)
    filename = serializers.CharField(required=False, default="pack.conf", max_length=1024)


CONVERT_OUT = inline_serializer(
    "ConvertOut",
    {
        "specs": serializers.ListField(child=serializers.DictField()),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)


class SpecConvertView(ApiView):
    """Read an osquery pack (or config) file and return spec documents; nothing is stored."""

    permission_classes = [Authenticated]

    @extend_schema(operation_id="spec_convert", request=ConvertIn, responses=responses(CONVERT_OUT))
    def post(self, request: Request) -> Response:
        from queries.packs_conf import PackConfError, parse_pack_text

        from ..convert import convert_packs

        data = self.body(request, ConvertIn).validated_data
        if len(data["text"].encode()) > MAX_SPEC_BYTES:
            raise ApiError(f"file is larger than {MAX_SPEC_BYTES} bytes", status_code=413)
        try:
            parsed = parse_pack_text(data["text"], data["filename"])
        except PackConfError as exc:
            raise ApiError(exc.message, status_code=422, name=f"{exc.filename}:{exc.line}") from None
        return Response({"specs": convert_packs(parsed), "warnings": parsed.all_warnings})
