from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.services import activity_record
from hosts.models import Host, Platform
from hosts.services import host_delete
from queries.models import CampaignHost

from .. import selectors
from ..access import admin_required, reader_required
from ..hoststatus import STATUSES
from ..logs import recent_result_lines, recent_status_problems

PAGE_SIZE = 50


@reader_required
def host_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.HostFilters.from_params(request.GET)
    page = Paginator(selectors.host_list(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "ui/hosts/list.html",
        {
            "page_obj": page,
            "hosts": page.object_list,
            "filters": filters,
            "statuses": STATUSES,
            "platforms": Platform.choices,
            "labels": selectors.label_choices(),
        },
    )


@reader_required
def host_detail(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_object_or_404(Host.objects.select_related("enroll_secret"), pk=host_id)
    live_results = (
        CampaignHost.objects.filter(host=host)
        .select_related("campaign")
        .defer("rows")
        .order_by("-campaign__created_at")[:10]
    )
    return render(
        request,
        "ui/hosts/detail.html",
        {
            "host": host,
            "labels": host.labels.order_by("name"),
            "results": recent_result_lines(host.pk),
            "problems": recent_status_problems(host.pk),
            "live_results": live_results,
        },
    )


@require_POST
@admin_required
def host_delete_view(request: HttpRequest, host_id: int) -> HttpResponse:
    host = get_object_or_404(Host, pk=host_id)
    name = str(host)
    host_delete(host=host)
    activity_record(actor=request.user, action="host_deleted", details={"host_id": host_id, "hostname": name})
    messages.success(request, f"Deleted host {name}.")
    return redirect("ui:hosts")
