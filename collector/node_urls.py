from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from collector.node import views

app_name = "collector_node"

# Mounted under /api/osquery/ and /api/v1/osquery/. Agents authenticate with node keys, never
# cookies, so CSRF does not apply.
urlpatterns = [
    path("enroll", csrf_exempt(views.EnrollView.as_view()), name="enroll"),
    path("config", csrf_exempt(views.ConfigView.as_view()), name="config"),
    path("log", csrf_exempt(views.LogView.as_view()), name="log"),
    path("distributed/read", csrf_exempt(views.DistributedReadView.as_view()), name="distributed_read"),
    path("distributed/write", csrf_exempt(views.DistributedWriteView.as_view()), name="distributed_write"),
    path("carve/begin", csrf_exempt(views.CarveBeginView.as_view()), name="carve_begin"),
    path("carve/block", csrf_exempt(views.CarveBlockView.as_view()), name="carve_block"),
    re_path(r"^(?P<rest>.*)$", csrf_exempt(views.unknown_endpoint), name="unknown"),
]

# Older agents' spelling of the distributed endpoints: /api/v1/distributed/read|write.
legacy_urlpatterns = [
    path("read", csrf_exempt(views.DistributedReadView.as_view())),
    path("write", csrf_exempt(views.DistributedWriteView.as_view())),
]
