from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.services import activity_record
from collector.models import QueryReportRow, StatusLogLine
from hosts.inventory.models import HostDetails, HostInterface, HostQueryStat, HostSoftware, HostUser
from hosts.inventory.services import host_config_applied, host_refetch
from hosts.models import Host, Platform
from hosts.services import host_delete
from hosts.status import host_is_new, host_status, host_statuses
from queries.models import CampaignHost, PolicyResult
from queries.targets import host_labels

from .. import selectors
from ..access import admin_required, reader_required, runner_required
from ..hoststatus import STATUSES

PAGE_SIZE = 50
SOFTWARE_SHOWN = 500


@reader_required
def host_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.HostFilters.from_params(request.GET)
    page = Paginator(selectors.host_list(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    hosts = list(page.object_list)
    statuses = host_statuses(hosts, now)
    for host in hosts:
        host.ui_status = statuses[host.pk].value  # type: ignore[attr-defined]
        host.ui_new = host_is_new(host, now)  # type: ignore[attr-defined]
    return render(
        request,
        "ui/hosts/list.html",
        {
            "page_obj": page,
            "hosts": hosts,
            "filters": filters,
            "statuses": STATUSES,
            "platforms": Platform.choices,
            "labels": selectors.label_choices(),
        },
    )


@reader_required
def host_detail(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_object_or_404(Host.objects.select_related("enroll_secret"), pk=host_id)
    now = timezone.now()
    software = HostSoftware.objects.filter(host=host).order_by("name", "version")
    return render(
        request,
        "ui/hosts/detail.html",
        {
            "host": host,
            "status": host_status(host, now).value,
            "is_new": host_is_new(host, now),
            "config_applied": host_config_applied(host),
            "details": HostDetails.objects.filter(host=host).first(),
            "labels": host_labels(host),
            "policies": PolicyResult.objects.filter(host=host).select_related("policy").order_by("policy__name"),
            "software": software[:SOFTWARE_SHOWN],
            "software_count": software.count(),
            "users": HostUser.objects.filter(host=host).order_by("username"),
            "interfaces": HostInterface.objects.filter(host=host).order_by("-default_route", "interface"),
            "query_stats": HostQueryStat.objects.filter(host=host).order_by("-denylisted", "-wall_time_ms")[:50],
            "results": QueryReportRow.objects.filter(host=host).order_by("-unix_time", "-id")[:50],
            "problems": StatusLogLine.objects.filter(host=host, severity__gte=1).order_by("-unix_time", "-id")[:20],
            "live_results": CampaignHost.objects.filter(host=host)
            .select_related("campaign")
            .defer("rows")
            .order_by("-campaign__created_at")[:10],
        },
    )


@require_POST
@runner_required
def host_refetch_view(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_object_or_404(Host, pk=host_id)
    host_refetch(host=host)
    activity_record(actor=request.user, action="host_refetch", details={"host_id": host.pk})
    messages.success(request, "The host will report its vitals, labels and policies at its next check-in.")
    return redirect("ui:host", host_id=host.pk)


@require_POST
@admin_required
def host_delete_view(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_object_or_404(Host, pk=host_id)
    name = str(host)
    host_delete(host=host)
    activity_record(actor=request.user, action="host_deleted", details={"host_id": host_id, "hostname": name})
    messages.success(request, f"Deleted host {name}.")
    return redirect("ui:hosts")
