"""Query reports, query performance and collector status."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from queries.models import ScheduledQuery

from .. import selectors
from ..access import reader_required


@reader_required
def reports(request: HttpRequest) -> HttpResponse:
    scheduled = ScheduledQuery.objects.select_related("pack", "query").order_by("pack__name", "name")
    return render(request, "ui/reports.html", {"scheduled": scheduled})


@reader_required
def performance(request: HttpRequest) -> HttpResponse:
    return render(request, "ui/performance.html", {})


@reader_required
def collector(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ui/collector.html",
        {"backlog": selectors.intake_backlog(), "events_per_minute": selectors.events_per_minute()},
    )
