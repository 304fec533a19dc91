"""The browser sign-in page is rate-limited and audited like the API's login."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Activity
from queries.models import Query


@pytest.mark.django_db
def test_sign_in_guesses_are_limited_and_recorded(client, settings):
    settings.FLEET = {**settings.FLEET, "LOGIN_RATE_LIMIT": 3}
    get_user_model().objects.create_superuser("admin", "admin@example.com", "right-password-123")
    codes = [client.post("/login/", {"username": "admin", "password": "guess"}).status_code for _ in range(3)]
    assert codes == [200, 200, 200]  # the form again, with an error
    assert Activity.objects.filter(action="user_failed_login").count() == 3
    refused = client.post("/login/", {"username": "admin", "password": "right-password-123"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_in_and_admin_changes_reach_the_activity_log(client):
    get_user_model().objects.create_superuser("admin", "admin@example.com", "right-password-123")
    assert client.post("/login/", {"username": "admin", "password": "right-password-123"}).status_code == 302
    assert Activity.objects.filter(action="user_logged_in", actor__username="admin").exists()
    response = client.post(
        "/admin/queries/query/add/",
        {"name": "uptime", "sql": "SELECT total_seconds FROM uptime;", "description": "", "platform": ""},
    )
    assert response.status_code == 302, response.content[:500]
    query = Query.objects.get(name="uptime")
    assert Activity.objects.filter(action="created_query", details__id=query.pk).exists()


@pytest.mark.django_db
def test_builtin_platform_labels_list_their_hosts(admin_client_ui):
    from hosts.models import Host
    from queries.models import Label

    mac = Host.objects.create(host_identifier="mac-1", hostname="mac-1", platform="darwin")
    Host.objects.create(host_identifier="linux-1", hostname="linux-1", platform="linux")
    macos = Label.objects.create(name="macOS", builtin_platform="darwin", membership=Label.Membership.MANUAL)
    everyone = Label.objects.create(name="All Hosts", builtin_platform="all", membership=Label.Membership.MANUAL)
    page = admin_client_ui.get(f"/hosts/?label={macos.pk}").content.decode()
    assert "mac-1" in page and "linux-1" not in page
    page = admin_client_ui.get(f"/hosts/?label={everyone.pk}").content.decode()
    assert "mac-1" in page and "linux-1" in page
    detail = admin_client_ui.get(f"/hosts/{mac.pk}/").content.decode()
    assert "macOS" in detail and "All Hosts" in detail
    admin_list = admin_client_ui.get(f"/admin/hosts/host/?label={macos.pk}").content.decode()
    assert "mac-1" in admin_list and "linux-1" not in admin_list
