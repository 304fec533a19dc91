"""How REST API callers prove who they are: `Authorization: Bearer <token>` or the UI session.

Agent node keys are never user credentials: a request carrying `Authorization: NodeKey ...` or a
node key in place of a token is refused outright rather than treated as anonymous.
"""

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.ratelimit import client_ip, rate_limit_exceeded, rate_limit_hit
from accounts.tokens import token_user
from fleetweb.conf import fleet_setting


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "nodekey":
            raise exceptions.AuthenticationFailed("node keys are for agent endpoints, not the REST API")
        if scheme.lower() != "bearer":
            # Never echo the header: a token sent without its scheme would come back in the reply.
            raise exceptions.AuthenticationFailed("unsupported Authorization scheme; use Bearer <token>")
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("Authorization header has no token")
        # Guessing tokens: after too many unknown ones from an address, every token from it is
        # refused until the window ends, so a lucky guess cannot be told apart from a miss.
        limit = fleet_setting("TOKEN_FAILURE_RATE_LIMIT")
        ip = client_ip(request)
        wait = rate_limit_exceeded("token-fail", ip, limit=limit, window=60)
        if wait:
            raise exceptions.Throttled(wait, f"too many invalid tokens from this address; retry in {wait} seconds")
        found = token_user(token)
        if found is None:
            rate_limit_hit("token-fail", ip, limit=limit, window=60)
            raise exceptions.AuthenticationFailed("invalid, expired or revoked token")
        return found

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class SessionAuthentication(authentication.SessionAuthentication):
    """The UI's Django session, with CSRF enforced as usual for unsafe methods."""
