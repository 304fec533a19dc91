"""Live queries, host refetch/status, carve downloads and reports; mounted at /api/v1/fleetweb/."""

from django.urls import path

from . import live_views as v

app_name = "live"

urlpatterns = [
    path("campaigns", v.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/<int:campaign_id>", v.CampaignDetailView.as_view(), name="campaign"),
    path("campaigns/<int:campaign_id>/stop", v.CampaignStopView.as_view(), name="campaign_stop"),
    path("campaigns/<int:campaign_id>/results", v.CampaignResultsView.as_view(), name="campaign_results"),
    path("campaigns/<int:campaign_id>/stream", v.CampaignStreamView.as_view(), name="campaign_stream"),
    path("campaigns/<int:campaign_id>/export.<str:fmt>", v.CampaignExportView.as_view(), name="campaign_export"),
    path("campaigns/<int:campaign_id>/carves", v.CampaignCarvesView.as_view(), name="campaign_carves"),
    path("hosts/<int:host_id>/query", v.HostQueryView.as_view(), name="host_query"),
    path("hosts/identifier/<str:identifier>/query", v.HostQueryView.as_view(), name="host_query_identifier"),
    path("hosts/<int:host_id>/refetch", v.HostRefetchView.as_view(), name="host_refetch"),
    path("hosts/<int:host_id>/status", v.HostStatusView.as_view(), name="host_status"),
    path("carves/<int:carve_id>/download", v.CarveDownloadView.as_view(), name="carve_download"),
    path("policies/<int:policy_id>", v.PolicyReportView.as_view(), name="policy_report"),
    path("query-performance", v.QueryPerformanceView.as_view(), name="query_performance"),
]
