from django.urls import path

from .views import add_hosts, dashboard, hosts, live, reports

app_name = "ui"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("hosts/", hosts.host_list, name="hosts"),
    path("hosts/<int:host_id>/", hosts.host_detail, name="host"),
    path("hosts/<int:host_id>/delete", hosts.host_delete_view, name="host_delete"),
    path("hosts/<int:host_id>/refetch", hosts.host_refetch_view, name="host_refetch"),
    path("live/", live.live_new, name="live"),
    path("live/launch", live.live_launch, name="live_launch"),
    path("live/targets/count", live.target_count, name="live_target_count"),
    path("live/targets/hosts", live.host_search, name="live_host_search"),
    path("live/sql-check", live.sql_check_view, name="sql_check"),
    path("live/<int:campaign_id>/", live.campaign_detail, name="campaign"),
    path("live/<int:campaign_id>/stop", live.campaign_stop, name="campaign_stop"),
    path("reports/", reports.reports, name="reports"),
    path("reports/<int:scheduled_id>/", reports.report_detail, name="report"),
    path("performance/", reports.performance, name="performance"),
    path("collector/", reports.collector, name="collector"),
    path("add-hosts/", add_hosts.add_hosts, name="add_hosts"),
    path("add-hosts/<str:platform>/osquery.flags", add_hosts.flags_file, name="flags_file"),
    path("add-hosts/secret/<int:secret_id>/enroll_secret", add_hosts.enroll_secret_file, name="enroll_secret_file"),
    path("add-hosts/server.crt", add_hosts.server_certificate, name="server_cert"),
]
