import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import ApiToken, Profile
from accounts.tokens import token_issue

ROLES = ["admin", "maintainer", "observer", "observer_plus"]


class Api:
    """A REST API caller with a bearer token (or none): returns (status, decoded JSON body)."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.token = token

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        url = path if path.startswith("/") else f"/api/v1/fleet/{path}"
        if params:
            from urllib.parse import urlencode

            url += "?" + urlencode(params)
        data = json.dumps(body) if body is not None else None
        response = self.client.generic(method, url, data or "", content_type="application/json", headers=headers)
        self.last_response = response
        assert response["Content-Type"].startswith("application/json"), (url, response.content[:300])
        return response.status_code, json.loads(response.content) if response.content else None

    def get(self, path: str, **params: Any) -> tuple[int, Any]:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self.call("POST", path, body if body is not None else {})

    def patch(self, path: str, body: Any) -> tuple[int, Any]:
        return self.call("PATCH", path, body)

    def delete(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self.call("DELETE", path, body)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at full strength costs a third of a second per user; these tests create many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(role: str, *, email: str | None = None, api_only: bool = False) -> Any:
    User = get_user_model()
    email = email or f"{role}@example.com"
    user = User.objects.create_user(username=email, email=email, password="correct-horse-battery-9")
    Profile.objects.create(user=user, role=role, api_only=api_only)
    return user


@pytest.fixture
def users(db) -> dict[str, Any]:
    return {role: make_user(role) for role in ROLES}


@pytest.fixture
def apis(users, client) -> dict[str | None, Api]:
    """One Api per role plus None for anonymous."""
    out: dict[str | None, Api] = {None: Api(client, None)}
    for role, user in users.items():
        _, token = token_issue(user=user, kind=ApiToken.Kind.API)
        out[role] = Api(client, token)
    return out


@pytest.fixture
def admin_api(apis) -> Api:
    return apis["admin"]
