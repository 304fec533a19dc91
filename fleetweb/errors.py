"""Error replies for paths Django rejects before any view runs.

A request can fail before routing (a Host header not in ALLOWED_HOSTS) or match no route. Under
/api/ the caller is an osquery agent or a script: both need JSON. osquery reads any non-JSON
body as a parse failure, and an empty one as success (protocol doc §1.4), so neither may happen.
Other paths keep Django's HTML pages.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {
                "error": "bad request: the Host header or the request is not accepted by this server",
                "message": "Bad request",
            },
            status=400,
        )
    return defaults.bad_request(request, exception or Exception())


def not_found(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": f"not found: {request.path}", "message": "Resource Not Found"}, status=404)
    return defaults.page_not_found(request, exception or Exception())


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"error": "internal server error; retry later", "message": "Internal server error"}, status=500
        )
    return defaults.server_error(request)
