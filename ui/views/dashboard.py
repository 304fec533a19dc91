from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from queries.models import Policy

from .. import selectors
from ..access import reader_required


@reader_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ui/dashboard.html",
        {
            "status": selectors.host_status_counts(),
            "platforms": selectors.host_platform_counts(),
            "events_per_minute": selectors.events_per_minute(),
            "hosts_per_hour": selectors.hosts_seen_per_hour(),
            "backlog": selectors.intake_backlog(),
            "activity": selectors.recent_activity(),
            "policy_count": Policy.objects.count(),
            "policy_failures": selectors.policy_failures(),
            "collector": selectors.collector_totals(),
        },
    )
