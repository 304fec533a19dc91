"""OpenAPI: describe the bearer token so the browsable docs can send it."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/fleet/login"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.SessionAuthentication"
    name = "sessionAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# Paths served only for compatibility with older Fleet clients; each has a documented twin.
ALIAS_PATHS = {
    "/api/v1/fleet/queries/run_by_names",
    "/api/v1/fleet/software",
    "/api/v1/fleet/schedule",
    "/api/v1/fleet/schedule/{scheduled_id}",
    "/api/v1/fleet/global/policies",
    "/api/v1/fleet/global/policies/delete",
    "/api/v1/fleet/global/policies/{policy_id}",
}


def drop_aliases(endpoints, **kwargs):  # type: ignore[no-untyped-def]
    """Document each operation once: /api/latest/ mirrors /api/v1/, and the aliases above."""
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].startswith("/api/v1/fleet/") and endpoint[0] not in ALIAS_PATHS
    ]


class RoleAutoSchema(AutoSchema):
    """Each operation's description ends with the roles allowed to call it, read from the view's
    permission classes so the documentation cannot drift from what the server enforces."""

    def get_description(self) -> str:  # type: ignore[override]
        from .permissions import ROLE_RULES

        description = super().get_description() or ""
        method = self.method.upper()
        permissions = self.view.get_permissions()
        if not permissions:
            return f"{description}\n\nRoles: anyone; no token needed.".strip()
        rules = [ROLE_RULES.get(type(p).__name__) for p in permissions]
        texts = [rule(method) for rule in rules if rule is not None]
        if not texts:
            return description
        return f"{description}\n\nRoles: {'; '.join(texts)}.".strip()
