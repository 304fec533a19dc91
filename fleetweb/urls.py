from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.login_views import RateLimitedLoginView
from api import urls as api_urls
from collector import node_urls
from fleetweb.surfaces import select_urlpatterns
from queries import live_urls

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/osquery/", include(node_urls)),
    path("api/v1/osquery/", include((node_urls.urlpatterns, node_urls.app_name), namespace="collector_node_v1")),
    path("api/v1/distributed/", include((node_urls.legacy_urlpatterns, "legacy"), namespace="collector_node_legacy")),
    path("api/v1/fleet/", include(api_urls)),
    path("api/latest/fleet/", include((api_urls.urlpatterns, "api"), namespace="api_latest")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/fleetweb/", include(live_urls)),
    path("collector/", include("collector.urls")),
    path("admin/", admin.site.urls),
    path("login/", RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("ui.urls")),
]

# FLEETWEB_SURFACES: this node serves the agent routes above, the operator routes, or both.
urlpatterns = select_urlpatterns(urlpatterns, settings.FLEETWEB_SURFACES)

handler400 = "fleetweb.errors.bad_request"
handler404 = "fleetweb.errors.not_found"
handler500 = "fleetweb.errors.server_error"
