"""A small REST client for fleetweb's /api/v1/fleet/ API."""

import ssl
from typing import Any
from urllib.parse import quote

import httpx

from .config import Context

API = "/api/v1/fleet"


class ClientError(Exception):
    """Anything that stops a command: connection trouble or an API error, said plainly."""

    def __init__(self, message: str, *, status: int | None = None, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.errors = errors or []


class Client:
    def __init__(self, context: Context, *, timeout: float = 60.0) -> None:
        if not context.address:
            raise ClientError("no server address: run `fleetctl config set --address https://...` first")
        self.context = context
        self.base = context.address.rstrip("/")
        self.timeout = timeout
        verify: bool | ssl.SSLContext = True
        if context.tls_skip_verify:
            verify = False
        elif context.rootca:
            verify = ssl.create_default_context(cafile=context.rootca)
        headers = {"User-Agent": "fleetweb-fleetctl"}
        if context.token:
            headers["Authorization"] = f"Bearer {context.token}"
        self.http = httpx.Client(verify=verify, headers=headers, timeout=timeout)

    def url(self, path: str) -> str:
        return f"{self.base}{API}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self.http.request(method, self.url(path), json=json, params=params)
        except httpx.ConnectError as exc:
            if "CERTIFICATE" in str(exc) or "SSL" in str(exc):
                raise ClientError(
                    f"TLS error talking to {self.base}: {exc}. If the server uses a private CA, pass --rootca; "
                    "for a self-signed test server, --tls-skip-verify"
                ) from None
            raise ClientError(f"cannot connect to {self.base}: {exc}") from None
        except httpx.TimeoutException:
            raise ClientError(f"{self.base} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ClientError(f"request to {self.base} failed: {exc}") from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            raise ClientError(
                f"{method} {path}: the server answered HTTP {response.status_code} with non-JSON content; "
                "is the address a fleetweb server?",
                status=response.status_code,
            ) from None
        if response.status_code >= 400:
            errors = body.get("errors") or [] if isinstance(body, dict) else []
            reasons = "; ".join(
                f"{e.get('name')}: {e.get('reason')}" if e.get("name") not in (None, "base") else str(e.get("reason"))
                for e in errors
            )
            message = body.get("message", f"HTTP {response.status_code}") if isinstance(body, dict) else ""
            if response.status_code == 401:
                message += " (log in again with `fleetctl login`, or check the token in your context)"
            raise ClientError(
                f"{message}: {reasons}" if reasons else message, status=response.status_code, errors=errors
            )
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {})

    def delete(self, path: str, body: Any = None) -> Any:
        return self.request("DELETE", path, json=body)

    def find_id(self, plural: str, name: str) -> int | None:
        """The id of the query/pack/label/policy called `name`. Looked up by listing rather than by
        path, since names may hold characters (like '/') a path cannot carry."""
        for item in self.get(plural, query=name).get(plural, []):
            if item.get("name") == name:
                return int(item["id"])
        return None


def quote_path(value: str) -> str:
    return quote(value, safe="")
