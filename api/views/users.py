"""Login, logout, the current user, users and their sessions (API tokens)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.models import ApiToken
from accounts.ratelimit import client_ip, rate_limit_hit
from accounts.roles import is_admin
from accounts.tokens import token_issue, token_revoke, tokens_revoke_for_user
from fleetweb.conf import fleet_setting

from ..errors import ApiError
from ..listing import list_parameters, paginate
from ..permissions import AdminOnly, Authenticated
from ..serializers import LoginInSerializer, UserInSerializer, UserSerializer
from .base import EMPTY, ApiView, responses, wrapped

User = get_user_model()

LOGIN_OUT = inline_serializer(
    "LoginResponse",
    {
        "user": UserSerializer(),
        "available_teams": serializers.ListField(child=serializers.DictField()),
        "token": serializers.CharField(),
    },
)


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked = serializers.SerializerMethodField()

    def get_revoked(self, token: ApiToken) -> bool:
        return token.revoked_at is not None


def _throttle(bucket: str, key: str) -> None:
    wait = rate_limit_hit(bucket, key, limit=fleet_setting("LOGIN_RATE_LIMIT"), window=60)
    if wait:
        raise exceptions.Throttled(wait=wait, detail=f"too many login attempts; retry in {wait} s")


class LoginView(ApiView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(operation_id="login", request=LoginInSerializer, responses=responses(LOGIN_OUT), auth=[])
    def post(self, request: Request) -> Response:
        data = self.body(request, LoginInSerializer).validated_data
        email = data["email"].strip().lower()
        # Both budgets count every attempt: per address against spraying many accounts, per
        # account against a distributed guess at one password.
        _throttle("login-ip", client_ip(request))
        _throttle("login-user", email)
        user = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).order_by("id").first()
        if user is None or not user.is_active or not user.check_password(data["password"]):
            services.activity_record(actor=None, action="user_failed_login", details={"email": email})
            raise ApiError("invalid email or password", status_code=401)
        profile = getattr(user, "fleet_profile", None)
        kind = ApiToken.Kind.API if profile is not None and profile.api_only else ApiToken.Kind.SESSION
        _, token = token_issue(user=user, kind=kind, name="login")
        services.activity_record(actor=user, action="user_logged_in", details={"public_ip": client_ip(request)})
        return Response({"user": UserSerializer(user).data, "available_teams": [], "token": token})


class LogoutView(ApiView):
    permission_classes = [Authenticated]

    @extend_schema(operation_id="logout", request=None, responses=responses(EMPTY))
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            token_revoke(token=request.auth)
        return Response({})


class MeView(ApiView):
    permission_classes = [Authenticated]

    @extend_schema(
        operation_id="me",
        responses=responses(
            inline_serializer(
                "Me",
                {"user": UserSerializer(), "available_teams": serializers.ListField(child=serializers.DictField())},
            )
        ),
    )
    def get(self, request: Request) -> Response:
        return Response({"user": UserSerializer(request.user).data, "available_teams": []})


USER_ORDER = {"id": "id", "email": "email", "name": "first_name", "created_at": "date_joined"}


class UserListView(ApiView):
    permission_classes = [AdminOnly]

    @extend_schema(
        operation_id="users_list",
        parameters=list_parameters(list(USER_ORDER), search="name or email substring"),
        responses=responses(wrapped("UserList", "users", UserSerializer, many=True)),
    )
    def get(self, request: Request) -> Response:
        qs = User.objects.select_related("fleet_profile")
        term = request.query_params.get("query", "").strip()
        if term:
            qs = qs.filter(Q(email__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term))
        page = paginate(request, qs, USER_ORDER, "email")
        return Response({"users": UserSerializer(page.rows, many=True).data})


class UserCreateView(ApiView):
    permission_classes = [AdminOnly]

    @extend_schema(
        operation_id="users_create",
        request=UserInSerializer,
        responses=responses(
            inline_serializer("UserCreated", {"user": UserSerializer(), "token": serializers.CharField(required=False)})
        ),
    )
    def post(self, request: Request) -> Response:
        data = self.body(request, UserInSerializer).validated_data
        user, token = services.user_create(
            actor=request.user,
            email=data["email"],
            name=data.get("name", ""),
            password=data.get("password"),
            role=data.get("global_role", "observer"),
            api_only=data.get("api_only", False),
        )
        body: dict[str, Any] = {"user": UserSerializer(user).data}
        if token:
            body["token"] = token
        return Response(body)


def _new_password(request: Request, user: Any, data: dict[str, Any]) -> str | None:
    """The password to set, Fleet's way: a user changing their own password or email proves it
    with the current one in `password` and sends the new one in `new_password`, so a stolen
    session token alone cannot take over the account. Admins may set another user's password
    with either field."""
    current, new = data.get("password"), data.get("new_password")
    if request.user.pk != user.pk:
        return new if new is not None else current
    if new is None and current is None and "email" not in data:
        return None
    if current is None or not request.user.check_password(current):
        raise services.UserError(
            "the current password is required: send it as password, and a new one as new_password", "password"
        )
    return new


def _user(user_id: int) -> Any:
    return get_object_or_404(User.objects.select_related("fleet_profile"), pk=user_id)


class UserDetailView(ApiView):
    """Admins manage every user; others may read and edit themselves, but not their role."""

    permission_classes = [Authenticated]

    def _check(self, request: Request, user_id: int, *, self_allowed: bool) -> Any:
        if not (is_admin(request.user) or (self_allowed and request.user.pk == user_id)):
            self.permission_denied(request, "only admins can manage other users")
        return _user(user_id)

    @extend_schema(operation_id="users_get", responses=responses(wrapped("UserGet", "user", UserSerializer)))
    def get(self, request: Request, user_id: int) -> Response:
        return Response({"user": UserSerializer(self._check(request, user_id, self_allowed=True)).data})

    @extend_schema(
        operation_id="users_update",
        request=UserInSerializer(partial=True),
        responses=responses(wrapped("UserUpdated", "user", UserSerializer)),
    )
    def patch(self, request: Request, user_id: int) -> Response:
        user = self._check(request, user_id, self_allowed=True)
        data = self.body(request, UserInSerializer, partial=True).validated_data
        if "global_role" in data and not is_admin(request.user):
            self.permission_denied(request, "only admins can change roles")
        user = services.user_update(
            actor=request.user,
            user=user,
            name=data.get("name"),
            email=data.get("email"),
            role=data.get("global_role"),
            password=_new_password(request, user, data),
        )
        return Response({"user": UserSerializer(user).data})

    @extend_schema(operation_id="users_delete", responses=responses(EMPTY))
    def delete(self, request: Request, user_id: int) -> Response:
        services.user_delete(actor=request.user, user=self._check(request, user_id, self_allowed=False))
        return Response({})


class UserSessionsView(ApiView):
    permission_classes = [AdminOnly]

    @extend_schema(
        operation_id="users_sessions",
        responses=responses(wrapped("UserSessions", "sessions", SessionSerializer, many=True)),
    )
    def get(self, request: Request, user_id: int) -> Response:
        user = _user(user_id)
        return Response({"sessions": SessionSerializer(ApiToken.objects.filter(user=user), many=True).data})

    @extend_schema(operation_id="users_sessions_revoke", responses=responses(EMPTY))
    def delete(self, request: Request, user_id: int) -> Response:
        user = _user(user_id)
        count = tokens_revoke_for_user(user=user)
        services.activity_record(
            actor=request.user, action="revoked_user_sessions", details={"user_id": user.pk, "count": count}
        )
        return Response({})


class SessionDetailView(ApiView):
    """One token. Users may see and revoke their own; admins anyone's."""

    permission_classes = [Authenticated]

    def _token(self, request: Request, session_id: int) -> ApiToken:
        token = get_object_or_404(ApiToken, pk=session_id)
        if token.user_id != request.user.pk and not is_admin(request.user):
            self.permission_denied(request, "only admins can see other users' sessions")
        return token

    @extend_schema(
        operation_id="sessions_get", responses=responses(wrapped("SessionGet", "session", SessionSerializer))
    )
    def get(self, request: Request, session_id: int) -> Response:
        return Response({"session": SessionSerializer(self._token(request, session_id)).data})

    @extend_schema(operation_id="sessions_delete", responses=responses(EMPTY))
    def delete(self, request: Request, session_id: int) -> Response:
        token_revoke(token=self._token(request, session_id))
        return Response({})
