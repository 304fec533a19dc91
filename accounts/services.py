from typing import Any

from django.db import transaction
from django.db.models import Q

from .models import Activity, ApiToken, Profile
from .redact import redact


def activity_record(*, actor: Any, action: str, details: dict[str, Any] | None = None) -> Activity:
    """Append to the audit log. `actor` is a user or None for the system. Never put secrets in
    `details`; keys that name one are redacted anyway (accounts/redact.py)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return Activity.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        details=redact(details or {}),
    )


class UserError(Exception):
    """A user write that cannot be done, with the field it is about."""

    def __init__(self, reason: str, name: str = "base", status: int = 422) -> None:
        super().__init__(reason)
        self.name = name
        self.status = status


def _admins_left(excluding: Any) -> int:
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    User = get_user_model()
    admins = User.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(fleet_profile__role="admin"))
    return admins.exclude(pk=excluding.pk).count()


@transaction.atomic
def user_create(
    *, actor: Any, email: str, name: str, password: str | None, role: str, api_only: bool
) -> tuple[Any, str | None]:
    """Create a user with a role. API-only users get a long-lived token, returned once; others
    need a password and log in for a session token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from .tokens import token_issue

    User = get_user_model()
    email = email.strip().lower()
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise UserError(f"a user with email {email!r} already exists", "email", 409)
    if not password and not api_only:
        raise UserError("a password is required (or set api_only)", "password")
    user = User(username=email, email=email)
    first, _, last = name.strip().partition(" ")
    user.first_name, user.last_name = first[:150], last[:150]
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise UserError(" ".join(exc.messages), "password") from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    Profile.objects.create(user=user, role=role, api_only=api_only)
    token = None
    if api_only:
        _, token = token_issue(user=user, kind=ApiToken.Kind.API, name="created with the user")
    activity_record(actor=actor, action="created_user", details={"user_id": user.pk, "user_email": email, "role": role})
    return user, token


@transaction.atomic
def user_update(
    *,
    actor: Any,
    user: Any,
    name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    password: str | None = None,
) -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from .tokens import tokens_revoke_for_user

    User = get_user_model()
    profile, _ = Profile.objects.get_or_create(user=user)
    if email is not None:
        email = email.strip().lower()
        clash = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exclude(pk=user.pk)
        if clash.exists():
            raise UserError(f"a user with email {email!r} already exists", "email", 409)
        user.email = user.username = email
    if name is not None:
        first, _, last = name.strip().partition(" ")
        user.first_name, user.last_name = first[:150], last[:150]
    # A superuser counts as admin whatever its profile says, so compare with the effective role.
    current_role = "admin" if user.is_superuser else profile.role
    if role is not None and role != current_role:
        if (profile.role == "admin" or user.is_superuser) and role != "admin" and _admins_left(user) == 0:
            raise UserError("cannot remove the last admin", "global_role")
        activity_record(
            actor=actor,
            action="changed_user_global_role",
            details={"user_id": user.pk, "user_email": user.email, "role": role},
        )
        profile.role = role
        profile.save(update_fields=["role"])
        if user.is_superuser and role != "admin":
            user.is_superuser = False
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise UserError(" ".join(exc.messages), "password") from exc
        user.set_password(password)
        tokens_revoke_for_user(user=user)
    user.save()
    return user


@transaction.atomic
def user_delete(*, actor: Any, user: Any) -> None:
    if getattr(actor, "pk", None) == user.pk:
        raise UserError("you cannot delete your own account; ask another admin")
    if (user_is_admin(user)) and _admins_left(user) == 0:
        raise UserError("cannot delete the last admin")
    details = {"user_id": user.pk, "user_email": user.email}
    user.delete()
    activity_record(actor=actor, action="deleted_user", details=details)


def user_is_admin(user: Any) -> bool:
    from .roles import is_admin

    return is_admin(user)
