"""Bearer tokens for the REST API and the CLI.

A token is `fw_` plus 43 random URL-safe characters. Only its SHA-256 digest is stored, so a
database dump does not reveal usable tokens. Session tokens (from login) expire; API-only users'
tokens do not, until revoked.
"""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from fleetweb.conf import fleet_setting

from .models import ApiToken

TOKEN_PREFIX = "fw_"  # noqa: S105  (a prefix, not a secret)
# Writing last_used_at on every request would make each API call a write; a minute is precise
# enough for "when was this token last used".
LAST_USED_RESOLUTION = timedelta(seconds=60)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_issue(*, user: Any, kind: str = ApiToken.Kind.SESSION, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the token text (shown only now)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = None
    if kind == ApiToken.Kind.SESSION:
        expires_at = timezone.now() + timedelta(seconds=fleet_setting("SESSION_SECONDS"))
    row = ApiToken.objects.create(user=user, key_hash=token_digest(token), kind=kind, name=name, expires_at=expires_at)
    return row, token


def token_user(token: str) -> tuple[Any, ApiToken] | None:
    """The active user and token row behind `token`, or None when unknown, revoked or expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = ApiToken.objects.select_related("user", "user__fleet_profile").filter(key_hash=token_digest(token)).first()
    now = timezone.now()
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row.user, row


def token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


@transaction.atomic
def tokens_revoke_for_user(*, user: Any) -> int:
    """Revoke every token of `user` (logout everywhere, password change, role removal)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
