"""FLEETWEB_SURFACES: an agent node refuses operator paths and an operator node refuses agent
paths, each in the way its callers understand."""

import os
import subprocess
import sys
import types

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from fleetweb import urls as full_urls
from fleetweb.surfaces import ALL, parse_surfaces, select_urlpatterns
from hosts.models import Host

AGENT_PATHS = [
    "/api/osquery/enroll",
    "/api/osquery/config",
    "/api/osquery/log",
    "/api/osquery/distributed/read",
    "/api/v1/osquery/distributed/write",
    "/api/v1/osquery/carve/begin",
    "/api/v1/distributed/read",
]


def urlconf(surfaces: str) -> types.ModuleType:
    module = types.ModuleType(f"urls_{surfaces}")
    module.urlpatterns = select_urlpatterns(full_urls.urlpatterns, parse_surfaces(surfaces))  # type: ignore[attr-defined]
    return module


def test_parse_surfaces():
    assert parse_surfaces("all") == ALL
    assert parse_surfaces("agent,operator") == ALL
    assert parse_surfaces(" Agent ") == {"agent"}
    assert parse_surfaces("operator") == {"operator"}
    with pytest.raises(ImproperlyConfigured, match="unknown surface"):
        parse_surfaces("agents")


@pytest.mark.django_db
def test_agent_node_serves_agents_and_refuses_operator_paths(client, enroll_secret, vectors):
    with override_settings(ROOT_URLCONF=urlconf("agent")):
        reply = client.post("/api/osquery/enroll", vectors["enroll"]["request_macos"], content_type="application/json")
        assert reply.status_code == 200
        assert "node_key" in reply.json()
        node_key = reply.json()["node_key"]
        reply = client.post("/api/osquery/config", {"node_key": node_key}, content_type="application/json")
        assert "options" in reply.json()
        for path in ("/admin/", "/login/", "/api/v1/fleet/hosts", "/"):
            assert client.get(path).status_code == 404, path


@pytest.mark.django_db
def test_operator_node_refuses_agent_paths_with_json_errors(enroll_secret, vectors):
    # Agents send no CSRF token: the refusal must still be the JSON error, not a CSRF page.
    client = Client(enforce_csrf_checks=True)
    with override_settings(ROOT_URLCONF=urlconf("operator")):
        assert client.get("/login/").status_code == 200
        for path in AGENT_PATHS:
            reply = client.post(path, vectors["enroll"]["request_macos"], content_type="application/json")
            assert reply.status_code == 404, path
            assert reply["Content-Type"] == "application/json"
            body = reply.json()
            # osquery keeps its logs and retries on an `error` reply; it must never see success.
            assert "agent" in body["error"] and "node_key" not in body, path
    assert not Host.objects.exists()


@pytest.mark.django_db
def test_all_surfaces_serve_both(client, enroll_secret, vectors):
    with override_settings(ROOT_URLCONF=urlconf("all")):
        assert client.get("/login/").status_code == 200
        reply = client.post("/api/osquery/enroll", vectors["enroll"]["request_macos"], content_type="application/json")
        assert "node_key" in reply.json()


def _settings_value(surfaces: str, expr: str) -> str:
    env = {**os.environ, "FLEETWEB_SURFACES": surfaces, "DJANGO_SETTINGS_MODULE": "fleetweb.settings"}
    code = f"import django; django.setup(); from django.conf import settings; print({expr})"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_agent_only_node_drops_operator_middleware():
    lean = _settings_value("agent", "settings.MIDDLEWARE")
    assert "SessionMiddleware" not in lean and "CsrfViewMiddleware" not in lean
    assert "SessionMiddleware" in _settings_value("all", "settings.MIDDLEWARE")


def test_unknown_surface_stops_the_node_at_startup():
    env = {**os.environ, "FLEETWEB_SURFACES": "agnet", "DJANGO_SETTINGS_MODULE": "fleetweb.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "FLEETWEB_SURFACES='agnet'" in result.stderr
