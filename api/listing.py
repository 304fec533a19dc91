"""Fleet's list parameters: page (0-based), per_page, order_key, order_direction, query.

As in Fleet, without `per_page` a list returns every row, and `page` alone means 20 per page.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from .errors import ApiError

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 10_000


def _int_param(request: Request, name: str, minimum: int, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"{name} must be an integer, got {raw!r}", name=name) from None
    if not minimum <= value <= maximum:
        raise ApiError(f"{name} must be between {minimum} and {maximum}", name=name)
    return value


@dataclass
class Page:
    rows: list[Any]
    has_next: bool
    has_previous: bool

    @property
    def meta(self) -> dict[str, bool]:
        return {"has_next_results": self.has_next, "has_previous_results": self.has_previous}


def paginate(
    request: Request, qs: QuerySet, order_keys: dict[str, str], default: str, default_direction: str = "asc"
) -> Page:
    """Order and slice `qs`. `order_keys` maps Fleet's order_key names to model fields."""
    order_key = request.query_params.get("order_key") or default
    if order_key not in order_keys:
        allowed = ", ".join(sorted(order_keys))
        raise ApiError(f"order_key {order_key!r} is not supported; use one of: {allowed}", name="order_key")
    direction = request.query_params.get("order_direction") or default_direction
    if direction not in ("asc", "desc"):
        raise ApiError("order_direction must be asc or desc", name="order_direction")
    field = order_keys[order_key]
    qs = qs.order_by(f"-{field}" if direction == "desc" else field, "-id" if direction == "desc" else "id")
    page = _int_param(request, "page", 0, 1_000_000)
    per_page = _int_param(request, "per_page", 1, MAX_PER_PAGE)
    if per_page is None and page is None:
        return Page(list(qs), False, False)
    per_page = per_page or DEFAULT_PER_PAGE
    page = page or 0
    start = page * per_page
    rows = list(qs[start : start + per_page + 1])
    return Page(rows[:per_page], len(rows) > per_page, page > 0)


def list_parameters(order_keys: list[str], *, search: str | None = None) -> list[OpenApiParameter]:
    params = [
        OpenApiParameter("page", OpenApiTypes.INT, description="0-based page number"),
        OpenApiParameter("per_page", OpenApiTypes.INT, description="rows per page; all rows when omitted"),
        OpenApiParameter("order_key", OpenApiTypes.STR, enum=order_keys),
        OpenApiParameter("order_direction", OpenApiTypes.STR, enum=["asc", "desc"]),
    ]
    if search:
        params.append(OpenApiParameter("query", OpenApiTypes.STR, description=search))
    return params
