from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from ..errors import ApiError
from ..serializers import ErrorSerializer


def wrapped(name: str, key: str, serializer: Any, *, many: bool = False, **extra: Any) -> Any:
    """Fleet wraps bodies in a key: {"host": {...}} or {"hosts": [...]}."""
    return inline_serializer(name, {key: serializer(many=many), **extra})


EMPTY = inline_serializer("Empty", {})
ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in (
        (400, "bad request"),
        (401, "no or bad credentials"),
        (403, "the role cannot do this"),
        (404, "not found"),
        (409, "name already taken"),
        (422, "validation failed"),
    )
}


def responses(ok: Any, code: int = 200) -> dict[int, Any]:
    return {code: ok, **ERRORS}


class ApiView(APIView):
    def body(self, request: Request, serializer_class: type[serializers.Serializer], **kwargs: Any) -> Any:
        if not isinstance(request.data, dict):
            raise ApiError("the request body must be a JSON object", status_code=400)
        serializer = serializer_class(data=request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer
