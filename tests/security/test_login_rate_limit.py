"""The browser login (UI and admin) shares the REST API login's brute-force budget."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _setup(settings, monkeypatch):
    # Rate limits count in fixed one-minute windows: keep the test inside one.
    monkeypatch.setattr("accounts.ratelimit.time.time", lambda: 1_700_000_010.0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.FLEET = {**settings.FLEET, "LOGIN_RATE_LIMIT": 3}
    get_user_model().objects.create_user("ops", "ops@example.com", PASSWORD)


def login(client: Client, password: str, username: str = "ops"):
    return client.post("/login/", {"username": username, "password": password})


def test_too_many_attempts_get_a_clear_429_even_with_the_right_password():
    client = Client()
    assert [login(client, "guess-one-two").status_code for _ in range(3)] == [200, 200, 200]
    response = login(client, PASSWORD)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert "Too many sign-in attempts. Try again in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_budget_is_per_account_across_addresses_and_shared_with_the_api():
    for n in range(2):
        login(Client(REMOTE_ADDR=f"198.51.100.{n}"), "guess-one-two")
    api = Client(REMOTE_ADDR="198.51.100.9").post(
        "/api/v1/fleet/login", {"email": "ops", "password": "guess"}, content_type="application/json"
    )
    assert api.status_code == 401
    assert login(Client(REMOTE_ADDR="203.0.113.5"), PASSWORD).status_code == 429


def test_a_correct_login_within_the_budget_works():
    client = Client()
    assert login(client, "guess-one-two").status_code == 200
    response = login(client, PASSWORD)
    assert response.status_code == 302 and "_auth_user_id" in client.session
