"""The collector status page and metrics (the full UI builds on collector.selectors)."""

import hmac

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fleetweb.conf import fleet_setting

from .selectors import collector_metrics_text, collector_status


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
