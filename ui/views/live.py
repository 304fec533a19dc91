"""The live query page: pick targets, write SQL, watch answers arrive, stop, export."""

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from accounts.services import activity_record
from hosts.models import Host, Platform
from queries.live import campaign_launch, campaign_unpublish
from queries.models import Campaign, CampaignHost, Query
from queries.osquery_tables import TABLES
from queries.sql_check import sql_check

from .. import selectors
from ..access import reader_required, runner_required
from ..live_targets import Targets, target_hosts

DEFAULT_TTL_SECONDS = 600
MAX_ROWS_PER_POLL = 500


@reader_required
def live_new(request: HttpRequest) -> HttpResponse:
    preselected = Host.objects.filter(pk__in=[v for v in request.GET.getlist("host") if v.isdigit()])
    return render(
        request,
        "ui/live/new.html",
        {
            "labels": selectors.label_choices(),
            "platforms": Platform.choices,
            "preselected": preselected,
            "saved_queries": Query.objects.order_by("name").only("id", "name", "sql"),
            "tables": sorted(TABLES.items()),
            "sql": request.GET.get("sql", ""),
            "recent": Campaign.objects.select_related("created_by").order_by("-created_at")[:10],
        },
    )


@require_POST
@runner_required
def live_launch(request: HttpRequest) -> HttpResponse:
    sql = request.POST.get("sql", "")
    check = sql_check(sql)
    targets = Targets.from_params(request.POST)
    if not check.ok:
        for error in check.errors:
            messages.error(request, error)
        return redirect("ui:live")
    host_ids = list(target_hosts(targets).values_list("pk", flat=True))
    if not host_ids:
        messages.error(request, "No hosts match the selected targets.")
        return redirect("ui:live")
    campaign = campaign_launch(
        sql=sql.strip(),
        host_ids=host_ids,
        ttl_seconds=DEFAULT_TTL_SECONDS,
        created_by=request.user,
        targets_spec=targets.as_spec(),
    )
    activity_record(
        actor=request.user,
        action="live_query_launched",
        details={"campaign_id": campaign.pk, "sql": campaign.sql, "target_count": campaign.target_count},
    )
    return redirect("ui:campaign", campaign_id=campaign.pk)


@require_GET
@reader_required
def target_count(request: HttpRequest) -> JsonResponse:
    targets = Targets.from_params(request.GET)
    hosts = target_hosts(targets)
    return JsonResponse({"count": hosts.count()})


@require_GET
@reader_required
def host_search(request: HttpRequest) -> JsonResponse:
    q = request.GET.get("q", "").strip()[:255]
    if not q:
        return JsonResponse({"hosts": []})
    hosts = Host.objects.filter(selectors.host_search_filter(q)).order_by("hostname", "id")[:20]
    return JsonResponse(
        {"hosts": [{"id": h.pk, "hostname": str(h), "platform": h.platform, "ip": h.primary_ip} for h in hosts]}
    )


@require_POST
@reader_required
def sql_check_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(sql_check(request.POST.get("sql", "")).as_dict())


@reader_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("created_by"), pk=campaign_id)
    return render(request, "ui/live/campaign.html", {"campaign": campaign, "progress": campaign_progress(campaign)})


def campaign_progress(campaign: Campaign) -> dict[str, Any]:
    rows = CampaignHost.objects.filter(campaign=campaign).values("status").annotate(n=Count("id")).order_by()
    return _progress(campaign, {row["status"]: row["n"] for row in rows})


def _progress(campaign: Campaign, counts: dict[str, int]) -> dict[str, Any]:
    succeeded = counts.get(CampaignHost.Status.SUCCEEDED, 0)
    failed = counts.get(CampaignHost.Status.FAILED, 0)
    answered = succeeded + failed
    status = campaign.status
    if status == Campaign.Status.RUNNING:
        if answered >= campaign.target_count:
            status = Campaign.Status.COMPLETED
        elif campaign.expires_at <= timezone.now():
            status = Campaign.Status.EXPIRED
    return {
        "status": status,
        "done": status != Campaign.Status.RUNNING,
        "target": campaign.target_count,
        "answered": answered,
        "succeeded": succeeded,
        "failed": failed,
        "pending": max(campaign.target_count - answered, 0),
    }


@require_GET
@reader_required
def campaign_results(request: HttpRequest, campaign_id: int) -> JsonResponse:
    """Answers that arrived at or after `since` (an ISO time from the previous reply). The
    client drops hosts it already has, so an answer stored in the same instant as the cursor is
    never lost. Plain JSON polling passes through any reverse proxy unchanged."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    since = parse_datetime(request.GET.get("since", "") or "")
    answered = CampaignHost.objects.filter(campaign=campaign, answered_at__isnull=False)
    if since is not None:
        answered = answered.filter(answered_at__gte=since)
    batch = list(
        answered.select_related("host")
        .only("host__hostname", "host__host_identifier", "status", "rows", "row_count", "error", "answered_at")
        .order_by("answered_at", "id")[:MAX_ROWS_PER_POLL]
    )
    cursor: datetime | None = batch[-1].answered_at if batch else since
    return JsonResponse(
        {
            "progress": campaign_progress(campaign),
            "cursor": cursor.isoformat() if cursor else "",
            "more": len(batch) == MAX_ROWS_PER_POLL,
            "hosts": [
                {
                    "host_id": ch.host_id,
                    "hostname": str(ch.host),
                    "status": ch.status,
                    "error": ch.error,
                    "row_count": ch.row_count,
                    "rows": ch.rows,
                }
                for ch in batch
            ],
        }
    )


@require_POST
@runner_required
def campaign_stop(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if campaign.status == Campaign.Status.RUNNING:
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(status=Campaign.Status.STOPPED)
        campaign_unpublish(campaign)
        activity_record(actor=request.user, action="live_query_stopped", details={"campaign_id": campaign.pk})
    if request.headers.get("Accept", "").startswith("application/json"):
        campaign.refresh_from_db()
        return JsonResponse({"progress": campaign_progress(campaign)})
    return redirect("ui:campaign", campaign_id=campaign.pk)


def _answers(campaign: Campaign) -> Iterator[CampaignHost]:
    return (
        CampaignHost.objects.filter(campaign=campaign, answered_at__isnull=False)
        .select_related("host")
        .only("host__hostname", "host__host_identifier", "status", "rows", "error", "answered_at")
        .order_by("answered_at", "id")
        .iterator(chunk_size=200)
    )


def _safe_cell(value: Any) -> str:
    """Agent-supplied text opened in a spreadsheet must not run as a formula."""
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@reader_required
def campaign_export(request: HttpRequest, campaign_id: int, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if fmt == "json":
        payload = [
            {"host": str(ch.host), "host_id": ch.host_id, "status": ch.status, "error": ch.error, "rows": ch.rows}
            for ch in _answers(campaign)
        ]
        response: HttpResponse = HttpResponse(
            json.dumps({"campaign": campaign.pk, "sql": campaign.sql, "results": payload}, indent=1),
            content_type="application/json",
        )
    else:
        columns: dict[str, None] = {}
        for ch in _answers(campaign):
            for row in ch.rows or []:
                if isinstance(row, dict):
                    columns.update(dict.fromkeys(row))
        header = ["host", *columns]
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            yield writer.writerow(header)
            for ch in _answers(campaign):
                for row in ch.rows or []:
                    if isinstance(row, dict):
                        yield writer.writerow([_safe_cell(str(ch.host))] + [_safe_cell(row.get(c, "")) for c in columns])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="live-query-{campaign.pk}.{fmt}"'
    return response
