"""Content-Security-Policy on HTML pages (Django 5.2 has no built-in CSP).

JSON replies (agent endpoints, REST API) are not rendered by browsers as documents, so only
text/html responses get the header. A view that needs a looser policy sets its own header, which
is kept.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.FLEETWEB_CSP
        if policy and response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
