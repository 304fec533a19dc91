"""Hidden fields stay hidden: no changelist filter on secrets, no enroll-secret pages for
observers, and a spoofed X-Forwarded-For cannot pick its own rate-limit bucket."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from accounts.models import Profile
from accounts.ratelimit import client_ip
from hosts.models import EnrollSecret


@pytest.fixture
def observer_client(client, db):
    user = get_user_model().objects.create_user("obs", "obs@example.com", "observer-password-1")
    Profile.objects.create(user=user, role="observer")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_observers_cannot_probe_enroll_secrets(observer_client):
    EnrollSecret.objects.create(name="laptops", secret="HIDDEN-secret-value")
    for url in ("/admin/hosts/enrollsecret/", "/admin/hosts/enrollsecret/?secret__startswith=H"):
        assert observer_client.get(url).status_code == 403


@pytest.mark.django_db
def test_admins_cannot_filter_on_secret_fields_either(admin_client):
    EnrollSecret.objects.create(name="laptops", secret="HIDDEN-secret-value")
    # A disallowed lookup is refused outright (SuspiciousOperation -> 400), never evaluated.
    assert admin_client.get("/admin/hosts/enrollsecret/?secret__startswith=H").status_code == 400
    assert admin_client.get("/admin/collector/carvesession/?session_id__startswith=a").status_code == 400
    assert admin_client.get("/admin/hosts/enrollsecret/?is_active__exact=1").status_code == 200


def test_forwarded_for_uses_the_entry_our_proxy_added(settings):
    settings.FLEET = {**settings.FLEET, "TRUST_X_FORWARDED_FOR": True}
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="10.9.8.7, 203.0.113.5", REMOTE_ADDR="127.0.0.1")
    assert client_ip(request) == "203.0.113.5"


@pytest.mark.django_db
def test_swagger_ui_needs_no_inline_script(client):
    # The CSP allows scripts from our own origin only; the docs page must not need inline code.
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")
    assert client.get("/api/docs/?script=").status_code == 200
