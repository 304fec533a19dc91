"""The browser sign-in page, with the same brute-force limits and audit entries as the API's
login (api/views/users.py)."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from fleetweb.conf import fleet_setting

from .ratelimit import client_ip, rate_limit_hit
from .services import activity_record


class RateLimitedLoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", "")).strip().lower()[:254]
        limit = fleet_setting("LOGIN_RATE_LIMIT")
        wait = max(
            rate_limit_hit("login-ip", client_ip(request), limit=limit, window=60),
            rate_limit_hit("login-user", username, limit=limit, window=60),
        )
        if wait:
            response = HttpResponse(
                f"Too many sign-in attempts. Try again in {wait} seconds.", status=429, content_type="text/plain"
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        activity_record(actor=form.get_user(), action="user_logged_in", details={"public_ip": client_ip(self.request)})
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        email = str(self.request.POST.get("username", "")).strip().lower()[:254]
        activity_record(actor=None, action="user_failed_login", details={"email": email})
        return super().form_invalid(form)
