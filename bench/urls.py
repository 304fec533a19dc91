"""The production URLs plus `/bench/floor`: the least a Django view can do on this stack.

The floor prices what every request pays before fleetweb's own code runs (server, WSGI,
middleware, URL resolving). Each agent endpoint is reported as a multiple of it.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from fleetweb.urls import urlpatterns as fleetweb_urlpatterns  # already limited by FLEETWEB_SURFACES


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse:
    # Read the body, as every agent endpoint does: a server closes a kept-alive connection whose
    # request body was left unread, and the floor would then price a new connection each time.
    request.body  # noqa: B018
    return HttpResponse(b"{}", content_type="application/json")


urlpatterns = [path("bench/floor", floor), *fleetweb_urlpatterns]
