import pytest

from accounts.models import Activity, ApiToken, Profile
from accounts.tokens import token_issue, token_user

from .conftest import make_user

pytestmark = pytest.mark.django_db


def _change_form(user, role: str, *, profile: Profile | None) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "fleet_profile-TOTAL_FORMS": "1",
        "fleet_profile-INITIAL_FORMS": "1" if profile else "0",
        "fleet_profile-MIN_NUM_FORMS": "0",
        "fleet_profile-MAX_NUM_FORMS": "1",
        "fleet_profile-0-role": role,
        "fleet_profile-0-user": str(user.pk),
    }
    if profile:
        data["fleet_profile-0-id"] = str(profile.pk)
    if user.is_superuser:
        data["is_superuser"] = "on"
        data["is_staff"] = "on"
    return data


def test_admin_sets_a_users_role(admin_client_ui):
    bob = make_user("bob", role="observer")
    response = admin_client_ui.post(
        f"/admin/auth/user/{bob.pk}/change/", _change_form(bob, "maintainer", profile=bob.fleet_profile)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Profile.objects.get(user=bob).role == "maintainer"
    assert Activity.objects.filter(action="changed_user_global_role", details__user_id=bob.pk).exists()
    assert "maintainer" in admin_client_ui.get("/admin/auth/user/").content.decode()


def test_the_last_admin_cannot_be_demoted(admin_client_ui, admin_user_ui):
    Profile.objects.create(user=admin_user_ui, role="admin")
    response = admin_client_ui.post(
        f"/admin/auth/user/{admin_user_ui.pk}/change/",
        _change_form(admin_user_ui, "observer", profile=admin_user_ui.fleet_profile),
    )
    assert response.status_code == 200
    assert "cannot remove the last admin" in response.content.decode()
    assert Profile.objects.get(user=admin_user_ui).role == "admin"


def test_observers_cannot_see_users_or_tokens(observer_client):
    assert observer_client.get("/admin/auth/user/").status_code == 403
    assert observer_client.get("/admin/accounts/apitoken/").status_code == 403
    assert "auth/user" not in observer_client.get("/admin/").content.decode()


def test_admin_revokes_api_tokens(admin_client_ui):
    carol = make_user("carol", role="maintainer")
    row, token = token_issue(user=carol, kind=ApiToken.Kind.API, name="ci")
    assert token_user(token) is not None
    response = admin_client_ui.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}, follow=True
    )
    assert "Revoked 1 token(s)." in response.content.decode()
    assert token_user(token) is None
    assert token not in response.content.decode()  # only digests are stored; nothing to leak
