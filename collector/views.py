"""The collector status page and metrics (the full UI builds on collector.selectors)."""

import hmac

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from fleetweb.conf import fleet_setting
from hosts.models import Host

from .selectors import collector_metrics_text, collector_status, query_reports_for_host, status_lines_for_host


@staff_member_required
def status_page(request: HttpRequest) -> HttpResponse:
    return render(request, "collector/status.html", collector_status())


def metrics(request: HttpRequest) -> HttpResponse:
    token: str = fleet_setting("METRICS_TOKEN")
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    allowed = (request.user.is_authenticated and request.user.is_staff) or (
        token and hmac.compare_digest(auth.encode(), f"Bearer {token}".encode())
    )
    if not allowed:
        return HttpResponse(
            "metrics need a staff session or the metrics bearer token\n", status=401, content_type="text/plain"
        )
    return HttpResponse(collector_metrics_text(), content_type="text/plain; version=0.0.4")


@staff_member_required
def host_reports(request: HttpRequest, host_id: int) -> HttpResponse:
    """Latest results of each scheduled query and latest status lines of one host."""
    host = get_object_or_404(Host, pk=host_id)
    errors_only = request.GET.get("errors") == "1"
    denylisted = request.GET.get("denylisted") == "1"
    context = {
        "host": host,
        "reports": query_reports_for_host(host_id=host.pk),
        "status_lines": status_lines_for_host(
            host_id=host.pk, min_severity=2 if errors_only else 0, denylisted_only=denylisted
        ),
        "errors_only": errors_only,
        "denylisted": denylisted,
    }
    return render(request, "collector/host_reports.html", context)
