"""The browser login (UI and admin), under the same brute-force budget as the REST API login."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from fleetweb.conf import fleet_setting

from .ratelimit import client_ip, rate_limit_hit


class RateLimitedLoginView(auth_views.LoginView):
    """Django's login form; each POST counts against a per-address and a per-account budget
    (the REST API login's buckets, so switching between them gains nothing). Over either, the
    form says how long to wait (HTTP 429) without checking the password."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limit: int = fleet_setting("LOGIN_RATE_LIMIT")
        username = str(request.POST.get("username", "")).strip().lower()[:254]
        wait = rate_limit_hit("login-ip", client_ip(request), limit=limit, window=60)
        wait = rate_limit_hit("login-user", username, limit=limit, window=60) or wait
        if wait:
            # An unbound form: a bound one would check the password when the template reads
            # its errors.
            form = self.get_form_class()(request=self.request)
            context = self.get_context_data(form=form, throttled=wait)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)
