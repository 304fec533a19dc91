from collections.abc import Callable

from django.http.response import HttpResponseBase
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from collector.node import views
from collector.node.endpoints import NODE_ENDPOINTS

app_name = "collector_node"


def _endpoint(route: str) -> str:
    # The agent pastes its endpoint flag onto the host verbatim, so a trailing slash in an
    # operator's flags file must work too.
    return rf"^{route}/?$"


def _node_view(name: str) -> Callable[..., HttpResponseBase]:
    return csrf_exempt(views.NodeEndpointView.as_view(endpoint=NODE_ENDPOINTS[name]))


_catch_all = re_path(r"^(?P<rest>.*)$", csrf_exempt(views.unknown_endpoint), name="unknown")

# Mounted under /api/osquery/ and /api/v1/osquery/. Agents authenticate with node keys, never
# cookies, so CSRF does not apply. Anything else under these prefixes gets a JSON error, since an
# agent cannot read an HTML 404 page.
urlpatterns = [
    re_path(_endpoint("enroll"), csrf_exempt(views.EnrollView.as_view()), name="enroll"),
    re_path(_endpoint("config"), _node_view("config"), name="config"),
    re_path(_endpoint("log"), _node_view("log"), name="log"),
    re_path(_endpoint("distributed/read"), _node_view("distributed/read"), name="distributed_read"),
    re_path(_endpoint("distributed/write"), _node_view("distributed/write"), name="distributed_write"),
    re_path(_endpoint("carve/begin"), _node_view("carve/begin"), name="carve_begin"),
    re_path(_endpoint("carve/block"), csrf_exempt(views.CarveBlockView.as_view()), name="carve_block"),
    _catch_all,
]

# Older agents' spelling of the distributed endpoints: /api/v1/distributed/read|write.
legacy_urlpatterns = [
    re_path(_endpoint("read"), _node_view("distributed/read"), name="distributed_read"),
    re_path(_endpoint("write"), _node_view("distributed/write"), name="distributed_write"),
    _catch_all,
]
