"""`manage.py check --deploy` is clean under the documented production profile, and the profile
really sends what it promises (HSTS, secure cookies, CSP, no DEBUG pages)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "deploy" / "production.env.example"


def profile_env(**overrides: str) -> dict[str, str]:
    """The process environment a production server would have: the profile file's values with
    its placeholders filled in, and nothing from the test run's own settings."""
    values: dict[str, str] = {}
    for line in PROFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    values["SECRET_KEY"] = secrets.token_urlsafe(64)
    values["DATABASE_URL"] = os.environ["DATABASE_URL"]
    values["REDIS_URL"] = os.environ["REDIS_URL"]
    values.update(overrides)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "FLEETWEB_SHARED")}
    return {**keep, **values}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("surfaces", ["all", "agent", "operator"])
def test_check_deploy_is_clean_with_the_production_profile(surfaces):
    """Also for nodes that serve only one surface (FLEETWEB_SURFACES, docs/deploying-at-scale.md)."""
    result = check_deploy(profile_env(FLEETWEB_SURFACES=surfaces))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_embedded_defaults():
    """The test above can fail: without the profile, check --deploy finds the missing settings."""
    env = profile_env(FLEETWEB_HTTPS="false", DEBUG="true")
    result = check_deploy(env)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016", "security.W018"):
        assert check in result.stderr + result.stdout, check


@pytest.fixture
def production(settings):
    """The profile's security settings applied to this test process."""
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


@pytest.mark.django_db
def test_html_pages_carry_hsts_and_csp(client, production):
    response = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    csrf_cookie = response.cookies["csrftoken"]
    assert csrf_cookie["secure"] and csrf_cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_session_cookie_is_secure_and_http_only(client, production, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", "correct horse battery")
    client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    response = client.post(
        "/login/",
        {"username": "admin", "password": "correct horse battery", "next": "/"},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


@pytest.mark.django_db
def test_plain_http_is_redirected_and_agent_json_has_no_csp(client, production, enroll_secret):
    response = client.get("/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    reply = client.post(
        "/api/osquery/enroll", b"{}", content_type="application/json", headers={"X-Forwarded-Proto": "https"}
    )
    assert reply["Content-Type"] == "application/json" and "Content-Security-Policy" not in reply
