"""`fleetctl debug connection`: check each layer between this machine and the server, and say
which one is wrong."""

import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from .client import API
from .config import Context


def check_connection(context: Context, say: Callable[[str], None]) -> bool:
    url = urlsplit(context.address or "")
    if url.scheme not in ("http", "https") or not url.hostname:
        say(f"FAIL address {context.address!r} is not a URL like https://fleet.example.com:8443")
        return False
    port = url.port or (443 if url.scheme == "https" else 80)
    say(f"OK   address {context.address}")
    if url.scheme == "http":
        say("WARN plain HTTP: tokens travel unencrypted, and osquery agents require HTTPS")
    try:
        addresses = sorted(
            {str(info[4][0]) for info in socket.getaddrinfo(url.hostname, port, type=socket.SOCK_STREAM)}
        )
    except socket.gaierror as exc:
        say(f"FAIL DNS: cannot resolve {url.hostname!r}: {exc.strerror}")
        return False
    say(f"OK   DNS {url.hostname} -> {', '.join(addresses)}")
    try:
        sock = socket.create_connection((url.hostname, port), timeout=10)
    except OSError as exc:
        say(f"FAIL TCP: cannot connect to {url.hostname}:{port}: {exc.strerror or exc} (server down or firewalled?)")
        return False
    say(f"OK   TCP connect to {url.hostname}:{port}")
    if url.scheme == "https":
        if not _check_tls(sock, url.hostname, context, say):
            return False
    else:
        sock.close()
    verify: bool | ssl.SSLContext = True
    if context.tls_skip_verify:
        verify = False
    elif context.rootca:
        verify = ssl.create_default_context(cafile=context.rootca)
    headers = {"Authorization": f"Bearer {context.token}"} if context.token else {}
    base = context.address.rstrip("/")
    try:
        response = httpx.get(f"{base}{API}/me", headers=headers, timeout=15, verify=verify)
    except httpx.HTTPError as exc:
        say(f"FAIL API request: {exc}")
        return False
    if response.status_code == 200:
        user = response.json().get("user", {})
        say(f"OK   token accepted: logged in as {user.get('email')} ({user.get('global_role')})")
    elif response.status_code == 401:
        why = "no token in this context" if not context.token else "the token is invalid, expired or revoked"
        say(f"FAIL token: {why}; run `fleetctl login` or `fleetctl config set --token ...`")
        return False
    elif "application/json" not in response.headers.get("Content-Type", ""):
        say(f"FAIL API: HTTP {response.status_code} without JSON; is {base} a fleetweb server (or a proxy page)?")
        return False
    else:
        say(f"FAIL API: HTTP {response.status_code}: {response.text[:200]}")
        return False
    try:
        enroll = httpx.post(
            f"{base}/api/osquery/enroll",
            json={"enroll_secret": "fleetctl-debug-connection", "host_identifier": "fleetctl-debug"},
            timeout=15,
            verify=verify,
        )
        answer = enroll.json()
    except (httpx.HTTPError, ValueError) as exc:
        say(f"FAIL agent API: /api/osquery/enroll did not answer with JSON: {exc}")
        return False
    if answer.get("node_invalid") or "error" in answer:
        say("OK   agent API answers at /api/osquery/enroll (a wrong secret was refused, as it should be)")
    else:
        say(f"WARN agent API answered unexpectedly: {answer}")
    return True


def _check_tls(sock: socket.socket, hostname: str, context: Context, say: Callable[[str], None]) -> bool:
    tls = ssl.create_default_context(cafile=context.rootca or None)
    if context.tls_skip_verify:
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    try:
        with tls.wrap_socket(sock, server_hostname=hostname) as conn:
            cert = conn.getpeercert()
            version = conn.version()
    except ssl.SSLCertVerificationError as exc:
        hint = {
            18: "the certificate is self-signed: pass --rootca with it, or --tls-skip-verify for tests",
            19: "the chain ends in an unknown CA: pass --rootca with the CA certificate",
            20: "the issuer is unknown: pass --rootca with the CA certificate",
            10: "the certificate has expired",
            62: f"the certificate is not for {hostname!r}",
        }.get(exc.verify_code, exc.verify_message)
        say(f"FAIL TLS: certificate not trusted: {hint}")
        return False
    except (ssl.SSLError, OSError) as exc:
        say(f"FAIL TLS handshake: {exc} (is the port serving HTTPS?)")
        return False
    if context.tls_skip_verify:
        say(f"WARN TLS {version} established without verifying the certificate (--tls-skip-verify)")
        return True
    expires = cert.get("notAfter") if cert else None
    if expires:
        when = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(expires)), tz=UTC)
        days = (when - datetime.now(tz=UTC)).days
        say(f"OK   TLS {version}, certificate valid until {when:%Y-%m-%d} ({days} days)")
    else:
        say(f"OK   TLS {version}")
    return True
