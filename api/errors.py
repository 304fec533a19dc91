"""One error shape for the whole REST API, Fleet's:

    {"message": "Validation Failed", "errors": [{"name": "interval", "reason": "must be ..."}]}

`message` is the summary for the status code; `errors` says precisely what was wrong, with `name`
the offending field ("base" when the error is not about one field).
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from fleetweb.unavailable import dependency_down

log = logging.getLogger(__name__)

MESSAGES = {
    400: "Bad Request",
    401: "Authentication required",
    403: "Permission Denied",
    404: "Resource Not Found",
    405: "Method Not Allowed",
    409: "Resource Already Exists",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(exceptions.APIException):
    """Raise from views and services with a status code and an explicit reason (and field)."""

    def __init__(self, reason: str, *, status_code: int = 400, name: str = "base") -> None:
        self.status_code = status_code
        self.reason = reason
        self.name = name
        super().__init__(reason)


class Conflict(ApiError):
    def __init__(self, reason: str, *, name: str = "name") -> None:
        super().__init__(reason, status_code=409, name=name)


def error_body(status_code: int, errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"message": MESSAGES.get(status_code, "Error"), "errors": errors}


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail -> Fleet's flat [{name, reason}] list."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            name = "base" if key in ("non_field_errors", "detail") else str(key)
            out.extend(_flatten(value, f"{prefix}.{name}" if prefix and name != "base" else (prefix or name)))
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            sub = f"{prefix}[{index}]" if isinstance(item, dict | list) else prefix
            out.extend(_flatten(item, sub))
        return out
    return [{"name": prefix or "base", "reason": str(detail)}]


def fleet_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    from accounts.services import UserError
    from queries.services import NameTaken, Refused

    headers: dict[str, str] = {}
    if isinstance(exc, NameTaken):
        code, errors = 409, [{"name": "name", "reason": str(exc)}]
    elif isinstance(exc, Refused):
        code, errors = 422, [{"name": "base", "reason": str(exc)}]
    elif isinstance(exc, UserError):
        code, errors = exc.status, [{"name": exc.name, "reason": str(exc)}]
    elif isinstance(exc, ApiError):
        code, errors = exc.status_code, [{"name": exc.name, "reason": exc.reason}]
    elif isinstance(exc, exceptions.ValidationError):
        code, errors = 422, _flatten(exc.detail)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"base": exc.messages}
        code, errors = 422, _flatten(detail)
    elif isinstance(exc, exceptions.NotAuthenticated):
        code, errors = 401, [{"name": "base", "reason": "authentication required: send Authorization: Bearer <token>"}]
    elif isinstance(exc, exceptions.AuthenticationFailed):
        code, errors = 401, [{"name": "base", "reason": str(exc.detail)}]
    elif isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        reason = str(getattr(exc, "detail", "")) or "your role cannot do this"
        code, errors = 403, [{"name": "base", "reason": reason}]
    elif isinstance(exc, Http404 | exceptions.NotFound):
        reason = str(getattr(exc, "detail", "") or exc) or "not found"
        code, errors = 404, [{"name": "base", "reason": reason}]
    elif isinstance(exc, exceptions.Throttled):
        code, errors = 429, [{"name": "base", "reason": str(exc.detail)}]
        if exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
    elif isinstance(exc, exceptions.APIException):
        code = exc.status_code
        errors = _flatten(exc.detail)
    elif dependency_down(exc):
        # MariaDB or Redis unreachable: say which, without the driver's details (host, port).
        which = dependency_down(exc)
        log.error("%s unavailable during an API request: %s", which, type(exc).__name__)
        code, errors = 503, [{"name": "base", "reason": f"fleetweb cannot reach its {which}; retry later"}]
    elif isinstance(exc, DatabaseError):
        log.exception("database error in API request")
        code, errors = 503, [{"name": "base", "reason": "the database is unavailable; retry later"}]
    else:
        log.exception("unhandled error in API request")
        code, errors = 500, [{"name": "base", "reason": "internal server error"}]
    if code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(error_body(code, errors), status=code, headers=headers)


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown paths under the API prefix answer in the API's shape, not with an HTML page."""
    body = error_body(404, [{"name": "base", "reason": f"no API endpoint at {request.path}"}])
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
