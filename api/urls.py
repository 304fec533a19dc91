"""Routes under /api/v1/fleet/ (also /api/latest/fleet/), following Fleet's paths."""

from django.urls import path, re_path

from .errors import api_not_found
from .views import catalog, hosts, live, settings, specs, users

urlpatterns = [
    # sessions and users
    path("login", users.LoginView.as_view()),
    path("logout", users.LogoutView.as_view()),
    path("me", users.MeView.as_view()),
    path("users", users.UserListView.as_view()),
    path("users/admin", users.UserCreateView.as_view()),
    path("users/<int:user_id>", users.UserDetailView.as_view()),
    path("users/<int:user_id>/sessions", users.UserSessionsView.as_view()),
    path("sessions/<int:session_id>", users.SessionDetailView.as_view()),
    # hosts
    path("hosts", hosts.HostListView.as_view()),
    path("hosts/count", hosts.HostCountView.as_view()),
    path("hosts/identifier/<str:identifier>", hosts.HostByIdentifierView.as_view()),
    path("hosts/identifier/<str:identifier>/query", hosts.HostQueryByIdentifierView.as_view()),
    path("hosts/<int:host_id>", hosts.HostDetailView.as_view()),
    path("hosts/<int:host_id>/refetch", hosts.HostRefetchView.as_view()),
    path("hosts/<int:host_id>/software", hosts.HostSoftwareView.as_view()),
    path("hosts/<int:host_id>/users", hosts.HostUsersView.as_view()),
    path("hosts/<int:host_id>/policies", hosts.HostPoliciesView.as_view()),
    path("hosts/<int:host_id>/labels", hosts.HostLabelsView.as_view()),
    path("hosts/<int:host_id>/query", hosts.HostQueryView.as_view()),
    path("software", hosts.SoftwareListView.as_view()),
    path("software/versions", hosts.SoftwareListView.as_view()),
    # queries and live queries
    path("queries", catalog.QueryListView.as_view()),
    path("queries/delete", catalog.QueryDeleteManyView.as_view()),
    path("queries/run", live.RunView.as_view()),
    path("queries/run_by_identifiers", live.RunByIdentifiersView.as_view()),
    path("queries/run_by_names", live.RunByIdentifiersView.as_view()),
    path("queries/run/<int:campaign_id>", live.CampaignView.as_view()),
    path("queries/id/<int:query_id>", catalog.QueryDeleteByIdView.as_view()),
    path("queries/<int:query_id>", catalog.QueryDetailView.as_view()),
    path("queries/<int:query_id>/run", live.SavedQueryRunView.as_view()),
    path("queries/<str:name>", catalog.QueryDeleteByNameView.as_view()),
    # packs
    path("packs", catalog.PackListView.as_view()),
    path("packs/schedule", catalog.ScheduleCreateView.as_view()),
    path("schedule", catalog.ScheduleCreateView.as_view()),
    path("packs/schedule/<int:scheduled_id>", catalog.ScheduleDetailView.as_view()),
    path("schedule/<int:scheduled_id>", catalog.ScheduleDetailView.as_view()),
    path("packs/id/<int:pack_id>", catalog.PackDeleteByIdView.as_view()),
    path("packs/<int:pack_id>", catalog.PackDetailView.as_view()),
    path("packs/<int:pack_id>/scheduled", catalog.PackScheduledView.as_view()),
    path("packs/<str:name>", catalog.PackDeleteByNameView.as_view()),
    # labels
    path("labels", catalog.LabelListView.as_view()),
    path("labels/summary", catalog.LabelSummaryView.as_view()),
    path("labels/id/<int:label_id>", catalog.LabelDeleteByIdView.as_view()),
    path("labels/<int:label_id>", catalog.LabelDetailView.as_view()),
    path("labels/<int:label_id>/hosts", hosts.LabelHostsView.as_view()),
    path("labels/<str:name>", catalog.LabelDeleteByNameView.as_view()),
    # policies (Fleet: /global/policies in v1, /policies since 2022-04)
    path("global/policies", catalog.PolicyListView.as_view()),
    path("global/policies/delete", catalog.PolicyDeleteManyView.as_view()),
    path("global/policies/<int:policy_id>", catalog.PolicyDetailView.as_view()),
    path("policies", catalog.PolicyListView.as_view()),
    path("policies/count", catalog.PolicyCountView.as_view()),
    path("policies/delete", catalog.PolicyDeleteManyView.as_view()),
    path("policies/<int:policy_id>", catalog.PolicyDetailView.as_view()),
    # settings, secrets, audit
    path("config", settings.ConfigView.as_view()),
    path("spec/enroll_secret", settings.EnrollSecretSpecView.as_view()),
    path("spec/apply", specs.SpecApplyView.as_view()),
    path("spec/export", specs.SpecExportView.as_view()),
    path("spec/convert", specs.SpecConvertView.as_view()),
    path("spec/queries", specs.QuerySpecView.as_view()),
    path("spec/queries/<str:name>", specs.QuerySpecOneView.as_view()),
    path("spec/packs", specs.PackSpecView.as_view()),
    path("spec/packs/<str:name>", specs.PackSpecOneView.as_view()),
    path("spec/labels", specs.LabelSpecView.as_view()),
    path("spec/labels/<str:name>", specs.LabelSpecOneView.as_view()),
    path("spec/policies", specs.PolicySpecView.as_view()),
    path("activities", settings.ActivityListView.as_view()),
    path("version", settings.VersionView.as_view()),
    re_path(r"^(?P<rest>.*)$", api_not_found),
]
