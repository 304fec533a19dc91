from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from collector import node_urls
from fleetweb.surfaces import select_urlpatterns
from queries import live_urls

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/osquery/", include(node_urls)),
    path("api/v1/osquery/", include((node_urls.urlpatterns, node_urls.app_name), namespace="collector_node_v1")),
    path("api/v1/distributed/", include((node_urls.legacy_urlpatterns, "legacy"), namespace="collector_node_legacy")),
    path("api/v1/fleetweb/", include(live_urls)),
    path("collector/", include("collector.urls")),
    path("admin/", admin.site.urls),
]

# FLEETWEB_SURFACES: this node serves the agent routes above, the operator routes, or both.
urlpatterns = select_urlpatterns(urlpatterns, settings.FLEETWEB_SURFACES)
