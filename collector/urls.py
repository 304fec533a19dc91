from django.urls import path

from . import views

app_name = "collector"

urlpatterns = [
    path("status/", views.status_page, name="status"),
    path("metrics", views.metrics, name="metrics"),
    path("hosts/<int:host_id>/reports/", views.host_reports, name="host_reports"),
]
