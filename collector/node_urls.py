from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from collector.node import views

app_name = "collector_node"


def _endpoint(route: str) -> str:
    # The agent pastes its endpoint flag onto the host verbatim, so a trailing slash in an
    # operator's flags file must work too.
    return rf"^{route}/?$"


_catch_all = re_path(r"^(?P<rest>.*)$", csrf_exempt(views.unknown_endpoint), name="unknown")

# Mounted under /api/osquery/ and /api/v1/osquery/. Agents authenticate with node keys, never
# cookies, so CSRF does not apply. Anything else under these prefixes gets a JSON error, since an
# agent cannot read an HTML 404 page.
urlpatterns = [
    re_path(_endpoint("enroll"), csrf_exempt(views.EnrollView.as_view()), name="enroll"),
    re_path(_endpoint("config"), csrf_exempt(views.ConfigView.as_view()), name="config"),
    re_path(_endpoint("log"), csrf_exempt(views.LogView.as_view()), name="log"),
    re_path(_endpoint("distributed/read"), csrf_exempt(views.DistributedReadView.as_view()), name="distributed_read"),
    re_path(
        _endpoint("distributed/write"), csrf_exempt(views.DistributedWriteView.as_view()), name="distributed_write"
    ),
    re_path(_endpoint("carve/begin"), csrf_exempt(views.CarveBeginView.as_view()), name="carve_begin"),
    re_path(_endpoint("carve/block"), csrf_exempt(views.CarveBlockView.as_view()), name="carve_block"),
    _catch_all,
]

# Older agents' spelling of the distributed endpoints: /api/v1/distributed/read|write.
legacy_urlpatterns = [
    re_path(_endpoint("read"), csrf_exempt(views.DistributedReadView.as_view()), name="distributed_read"),
    re_path(_endpoint("write"), csrf_exempt(views.DistributedWriteView.as_view()), name="distributed_write"),
    _catch_all,
]
