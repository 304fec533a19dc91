"""Query reports, query performance and collector status, on the collector's and inventory's reads."""

from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from collector.models import QueryReportRow
from collector.selectors import collector_status
from hosts.inventory.services import query_performance
from queries.models import ScheduledQuery

from .. import selectors
from ..access import reader_required

REPORT_PAGE_SIZE = 100


@reader_required
def reports(request: HttpRequest) -> HttpResponse:
    stats = {
        (row["pack"], row["query"]): row
        for row in QueryReportRow.objects.values("pack", "query")
        .annotate(hosts=Count("host_id", distinct=True), rows=Count("id"), last=Max("unix_time"))
        .order_by()
    }
    scheduled = list(ScheduledQuery.objects.select_related("pack", "query").order_by("pack__name", "name"))
    for sq in scheduled:
        sq.report = stats.get((sq.pack.name, sq.name))  # type: ignore[attr-defined]
    return render(request, "ui/reports.html", {"scheduled": scheduled})


@reader_required
def report_detail(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    """The latest rows of one scheduled query, across every host that reported it."""
    sq = get_object_or_404(ScheduledQuery.objects.select_related("pack", "query"), pk=scheduled_id)
    rows = (
        QueryReportRow.objects.filter(pack=sq.pack.name, query=sq.name)
        .select_related("host")
        .only("host__hostname", "host__host_identifier", "columns", "unix_time")
        .order_by("host__hostname", "host_id", "id")
    )
    host_q = request.GET.get("host", "").strip()[:255]
    if host_q:
        rows = rows.filter(host__hostname__icontains=host_q)
    page = Paginator(rows, REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    columns: dict[str, None] = {}
    for row in page.object_list:
        if isinstance(row.columns, dict):
            columns.update(dict.fromkeys(row.columns))
    table = [
        (row, [row.columns.get(c, "") if isinstance(row.columns, dict) else "" for c in columns])
        for row in page.object_list
    ]
    return render(
        request,
        "ui/report_detail.html",
        {"sq": sq, "page_obj": page, "columns": list(columns), "table": table, "host_q": host_q},
    )


@reader_required
def performance(request: HttpRequest) -> HttpResponse:
    return render(request, "ui/performance.html", {"queries": query_performance()})


@reader_required
def collector(request: HttpRequest) -> HttpResponse:
    context = collector_status()
    context["events_per_minute"] = selectors.events_per_minute()
    return render(request, "ui/collector.html", context)
