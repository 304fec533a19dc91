"""The live query page: pick targets, write SQL, watch answers arrive, stop, export.

Launching, stopping and reading results are queries.live's services; the page's script reads
results from the live-query API's event stream (and falls back to its long-poll endpoint).
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import can_manage_queries
from hosts.models import Host, Platform
from queries import live
from queries.models import Campaign, Query
from queries.osquery_tables import TABLES
from queries.sql_check import sql_check
from queries.targets import resolve_targets

from .. import selectors
from ..access import reader_required, runner_required


def targets_from(params: Any) -> dict[str, Any]:
    """The page's checkboxes in the shape queries.live takes."""

    def ids(name: str) -> list[int]:
        return sorted({int(v) for v in params.getlist(name) if str(v).isdigit()})

    targets: dict[str, Any] = {
        "hosts": ids("hosts"),
        "labels": ids("labels"),
        "platforms": sorted({p for p in params.getlist("platforms") if p in Platform.values}),
    }
    if params.get("all") in ("1", "on", "true"):
        targets["all"] = True
    return targets


def _campaign_for(request: HttpRequest, campaign_id: int) -> Campaign:
    campaign = get_object_or_404(Campaign.objects.select_related("created_by"), pk=campaign_id)
    # The same rule as the live-query API: results can be sensitive.
    if campaign.created_by_id != request.user.pk and not can_manage_queries(request.user):
        raise PermissionDenied("only the user who ran this live query can read its results")
    return campaign


@reader_required
def live_new(request: HttpRequest) -> HttpResponse:
    preselected = Host.objects.filter(pk__in=[v for v in request.GET.getlist("host") if v.isdigit()])
    recent = Campaign.objects.select_related("created_by").order_by("-created_at")
    if not can_manage_queries(request.user):
        recent = recent.filter(created_by=request.user.pk)
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
            "recent": recent[:10],
        },
    )


@require_POST
@runner_required
def live_launch(request: HttpRequest) -> HttpResponse:
    sql = request.POST.get("sql", "")
    check = sql_check(sql)
    if not check.ok:
        for error in check.errors:
            messages.error(request, error)
        return redirect("ui:live")
    try:
        campaign = live.campaign_launch(sql=sql, targets=targets_from(request.POST), user=request.user)
    except live.CampaignError as exc:
        messages.error(request, f"Not launched: {exc}.")
        return redirect("ui:live")
    return redirect("ui:campaign", campaign_id=campaign.pk)


@require_GET
@reader_required
def target_count(request: HttpRequest) -> JsonResponse:
    try:
        count = len(resolve_targets(targets_from(request.GET)))
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"count": count})


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
    campaign = _campaign_for(request, campaign_id)
    return render(
        request, "ui/live/campaign.html", {"campaign": campaign, "progress": live.campaign_progress(campaign)}
    )


@require_POST
@runner_required
def campaign_stop(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Stop from the page (JSON reply to its script) or from the plain form (redirect)."""
    campaign = _campaign_for(request, campaign_id)
    stopped = live.campaign_stop(campaign, user=request.user)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"stopped": stopped, "progress": live.campaign_progress(campaign)})
    return redirect("ui:campaign", campaign_id=campaign.pk)
