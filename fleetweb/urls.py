from django.contrib import admin
from django.urls import include, path

from collector import node_urls
from queries import live_urls

urlpatterns = [
    path("api/osquery/", include(node_urls)),
    path("api/v1/osquery/", include((node_urls.urlpatterns, node_urls.app_name), namespace="collector_node_v1")),
    path("api/v1/distributed/", include((node_urls.legacy_urlpatterns, "legacy"), namespace="collector_node_legacy")),
    path("api/v1/fleetweb/", include(live_urls)),
    path("collector/", include("collector.urls")),
    path("admin/", admin.site.urls),
]
