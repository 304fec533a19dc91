"""Guessing API tokens is rate-limited per client address, with a clear 429 reply."""

import pytest

from accounts.models import ApiToken
from accounts.tokens import token_issue
from tests.api.conftest import Api, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings, monkeypatch):
    # Rate limits count in fixed one-minute windows: keep the test inside one.
    monkeypatch.setattr("accounts.ratelimit.time.time", lambda: 1_700_000_010.0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_unknown_tokens_are_throttled_then_every_token_waits(client, settings):
    settings.FLEET = {**settings.FLEET, "TOKEN_FAILURE_RATE_LIMIT": 3}
    _, token = token_issue(user=make_user("observer"), kind=ApiToken.Kind.API)
    good = Api(client, token)
    assert good.get("hosts")[0] == 200
    for guess in range(3):
        status, body = Api(client, f"fw_guess{guess}").get("hosts")
        assert status == 401 and body["errors"][0]["reason"] == "invalid, expired or revoked token"
    throttled = Api(client, "fw_guess-again")
    status, body = throttled.get("hosts")
    assert status == 429 and int(throttled.last_response["Retry-After"]) >= 1 and body["message"] == "Too Many Requests"
    assert "too many invalid tokens" in body["errors"][0]["reason"]
    # A valid token from the same address waits too: otherwise a lucky guess would stand out.
    status, body = good.get("hosts")
    assert status == 429 and int(good.last_response["Retry-After"]) >= 1


def test_valid_tokens_do_not_use_the_budget(client, settings):
    settings.FLEET = {**settings.FLEET, "TOKEN_FAILURE_RATE_LIMIT": 2}
    _, token = token_issue(user=make_user("observer"), kind=ApiToken.Kind.API)
    api = Api(client, token)
    assert all(api.get("hosts")[0] == 200 for _ in range(5))


def test_other_addresses_are_not_affected(client, settings):
    from django.test import Client

    settings.FLEET = {**settings.FLEET, "TOKEN_FAILURE_RATE_LIMIT": 1}
    _, token = token_issue(user=make_user("observer"), kind=ApiToken.Kind.API)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        Api(attacker, "fw_guess").get("hosts")
    assert Api(attacker, "fw_guess").get("hosts")[0] == 429
    assert Api(Client(REMOTE_ADDR="198.51.100.4"), token).get("hosts")[0] == 200
