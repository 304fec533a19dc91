"""Logging in, tokens (hashed, revocable, last use recorded), node keys kept out of the user
API, and brute-force limits on login and enroll."""

import hashlib

from accounts.models import Activity, ApiToken
from accounts.tokens import token_issue

from .conftest import Api, make_user

PASSWORD = "correct-horse-battery-9"


def test_login_returns_a_token_stored_only_as_a_digest(client, db):
    user = make_user("maintainer")
    anon = Api(client, None)
    status, body = anon.post("login", {"email": "MAINTAINER@example.com", "password": PASSWORD})
    assert status == 200, body
    token = body["token"]
    assert body["user"]["email"] == "maintainer@example.com"
    assert body["user"]["global_role"] == "maintainer"
    assert body["available_teams"] == []
    row = ApiToken.objects.get(user=user)
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ApiToken.objects.values()))
    assert row.kind == "session" and row.expires_at is not None
    assert Activity.objects.filter(action="user_logged_in", actor=user).exists()
    status, me = Api(client, token).get("me")
    assert status == 200 and me["user"]["id"] == user.pk


def test_wrong_password_is_401_and_recorded(client, db):
    make_user("observer")
    status, body = Api(client, None).post("login", {"email": "observer@example.com", "password": "nope-nope-nope"})
    assert status == 401
    assert body["errors"][0]["reason"] == "invalid email or password"
    assert Activity.objects.filter(action="user_failed_login").count() == 1


def test_login_is_rate_limited_per_account(client, db, settings):
    settings.FLEET = {**settings.FLEET, "LOGIN_RATE_LIMIT": 3}
    make_user("observer")
    anon = Api(client, None)
    codes = [anon.post("login", {"email": "observer@example.com", "password": "guess-123456"})[0] for _ in range(3)]
    assert codes == [401, 401, 401]
    status, body = anon.post("login", {"email": "observer@example.com", "password": PASSWORD})
    assert status == 429, "even the right password waits once the budget is spent"
    assert body["message"] == "Too Many Requests"
    assert "retry in" in body["errors"][0]["reason"]
    assert int(anon.last_response["Retry-After"]) >= 1


def test_api_only_user_gets_a_long_lived_token(admin_api, client):
    status, body = admin_api.post(
        "users/admin", {"email": "siem@example.com", "name": "SIEM", "api_only": True, "global_role": "observer"}
    )
    assert status == 200, body
    token = body["token"]
    row = ApiToken.objects.get(user__email="siem@example.com")
    assert row.kind == "api" and row.expires_at is None
    assert Api(client, token).get("hosts")[0] == 200
    # API-only users have no password to log in with.
    assert Api(client, None).post("login", {"email": "siem@example.com", "password": ""})[0] == 422


def test_revoked_and_expired_tokens_stop_working(client, db):
    from datetime import timedelta

    from django.utils import timezone

    user = make_user("observer")
    row, token = token_issue(user=user)
    api = Api(client, token)
    assert api.get("me")[0] == 200
    assert api.post("logout")[0] == 200
    status, body = api.get("me")
    assert status == 401 and "revoked" in body["errors"][0]["reason"]

    row, token = token_issue(user=user)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Api(client, token).get("me")[0] == 401


def test_admin_revokes_another_users_sessions(admin_api, users, client):
    _, token = token_issue(user=users["observer"])
    assert Api(client, token).get("me")[0] == 200
    status, _ = admin_api.delete(f"users/{users['observer'].pk}/sessions")
    assert status == 200
    assert Api(client, token).get("me")[0] == 401


def test_last_used_is_recorded(client, db):
    user = make_user("observer")
    row, token = token_issue(user=user)
    assert row.last_used_at is None
    Api(client, token).get("me")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_node_keys_are_refused_by_the_user_api(client, enrolled_mac):
    node_key = enrolled_mac.node_key
    response = client.get("/api/v1/fleet/hosts", headers={"Authorization": f"NodeKey {node_key}"})
    assert response.status_code == 401
    assert "node keys are for agent endpoints" in response.json()["errors"][0]["reason"]
    response = client.get("/api/v1/fleet/hosts", headers={"Authorization": f"Bearer {node_key}"})
    assert response.status_code == 401


def test_agent_endpoints_ignore_user_tokens(client, users, enrolled_mac):
    _, token = token_issue(user=users["admin"])
    status, reply = enrolled_mac.post("config", {"node_key": token})
    assert reply.get("node_invalid") is True
    status, reply = enrolled_mac.post("config", {}, headers={"Authorization": f"Bearer {token}"})
    assert reply.get("node_invalid") is True


def test_enroll_failures_are_rate_limited(agent, enroll_secret, vectors, settings):
    settings.FLEET = {**settings.FLEET, "ENROLL_FAILURE_RATE_LIMIT": 3}
    request = dict(vectors["enroll"]["request_macos"])
    bad = {**request, "enroll_secret": "wrong-secret"}
    for _ in range(3):
        status, reply = agent.post("enroll", bad)
        assert status == 401 and reply["node_invalid"] is True
    status, reply = agent.post("enroll", request)
    assert status == 429
    assert "too many enroll attempts" in reply["error"]
    assert "node_key" not in reply


def test_good_enrolls_do_not_use_the_failure_budget(agent, enroll_secret, vectors, settings):
    settings.FLEET = {**settings.FLEET, "ENROLL_FAILURE_RATE_LIMIT": 2}
    request = vectors["enroll"]["request_macos"]
    for _ in range(4):
        assert "node_key" in agent.enroll(request)


def test_errors_share_fleet_shape(admin_api):
    status, body = admin_api.post("queries", {"name": "", "query": ""})
    assert status == 422
    assert body["message"] == "Validation Failed"
    assert {e["name"] for e in body["errors"]} == {"name", "query"}
    admin_api.post("queries", {"name": "dup", "query": "SELECT 1;"})
    status, body = admin_api.post("queries", {"name": "dup", "query": "SELECT 2;"})
    assert status == 409
    assert body == {
        "message": "Resource Already Exists",
        "errors": [{"name": "name", "reason": "a query named 'dup' already exists"}],
    }
    status, body = admin_api.get("hosts", per_page="ten")
    assert status == 400 and body["errors"] == [
        {"name": "per_page", "reason": "per_page must be an integer, got 'ten'"}
    ]
    status, body = admin_api.get("no/such/thing")
    assert status == 404 and body["message"] == "Resource Not Found"
    response = admin_api.client.generic(
        "POST",
        "/api/v1/fleet/queries",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin_api.token}"},
    )
    assert response.status_code == 400 and response.json()["message"] == "Bad Request"


def test_denied_user_cannot_change_own_role(apis, users):
    status, body = apis["observer"].patch(f"users/{users['observer'].pk}", {"global_role": "admin"})
    assert status == 403
    users["observer"].refresh_from_db()
    assert users["observer"].fleet_profile.role == "observer"


def test_cannot_remove_last_admin(admin_api, users):
    status, body = admin_api.patch(f"users/{users['admin'].pk}", {"global_role": "observer"})
    assert status == 422 and body["errors"][0]["reason"] == "cannot remove the last admin"


def test_spec_apply_is_audited_and_dry_run_is_not(admin_api):
    text = "apiVersion: v1\nkind: query\nspec:\n  name: audited\n  query: SELECT 1;\n"
    status, body = admin_api.post("spec/apply", {"text": text, "filename": "a.yml", "dry_run": True})
    assert status == 200 and body["counts"]["created"] == 1
    assert not Activity.objects.filter(action="applied_spec").exists()
    admin_api.post("spec/apply", {"text": text, "filename": "a.yml"})
    activity = Activity.objects.get(action="applied_spec")
    assert activity.details == {"file": "a.yml", "counts": {"created": 1, "updated": 0, "unchanged": 0}}
    status, body = admin_api.get("activities")
    assert body["activities"][0]["type"] == "applied_spec"
    assert body["activities"][0]["actor_email"] == "admin@example.com"


def test_changing_your_own_password_needs_the_current_one(client, db):
    user = make_user("observer")
    _, token = token_issue(user=user)
    api = Api(client, token)
    # A stolen token alone cannot set a new password.
    status, body = api.patch(f"users/{user.pk}", {"password": "a-new-password-42"})
    assert status == 422 and body["errors"][0]["name"] == "password"
    status, body = api.patch(f"users/{user.pk}", {"password": "wrong-current-1", "new_password": "a-new-password-42"})
    assert status == 422
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # Fleet's shape: the current password in `password`, the new one in `new_password`.
    status, body = api.patch(f"users/{user.pk}", {"password": PASSWORD, "new_password": "a-new-password-42"})
    assert status == 200, body
    user.refresh_from_db()
    assert user.check_password("a-new-password-42")


def test_an_admin_cannot_delete_their_own_account(client, db):
    admin = make_user("admin")
    make_user("maintainer")
    _, token = token_issue(user=admin)
    status, body = Api(client, token).delete(f"users/{admin.pk}")
    assert status == 422 and "own account" in body["errors"][0]["reason"]
    assert type(admin).objects.filter(pk=admin.pk).exists()


def test_queries_policies_and_labels_refuse_sql_osquery_cannot_run(client, db):
    from queries.models import Label, Policy, Query

    _, token = token_issue(user=make_user("maintainer"))
    api = Api(client, token)
    for path, body in (
        ("queries", {"name": "x1", "query": "SELEC 1"}),
        ("queries", {"name": "x2", "query": "SELECT nosuchcol FROM osquery_info"}),
        ("policies", {"name": "p1", "query": "SELECT 1 FROM"}),
        ("labels", {"name": "l1", "query": "DELETE FROM users"}),
    ):
        status, reply = api.post(path, body)
        assert status == 422, (path, reply)
        assert reply["errors"][0]["name"] == "query"
    assert not Query.objects.exists() and not Policy.objects.exists() and not Label.objects.exists()
    assert api.post("queries", {"name": "ok", "query": "SELECT version FROM osquery_info;"})[0] == 200
