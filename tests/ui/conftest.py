import copy
import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from hosts.models import EnrollSecret

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery-staple"


def make_user(username: str, *, role: str | None = None, superuser: bool = False) -> Any:
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username=username, password=PASSWORD, email=f"{username}@example.com")
    user = User.objects.create_user(username=username, password=PASSWORD)
    if role:
        # Roles live on the accounts profile; without it a user is an observer.
        from accounts import models as account_models

        profile_model = getattr(account_models, "Profile", None)
        if profile_model is not None:
            profile_model.objects.update_or_create(user=user, defaults={"role": role})
    return user


@pytest.fixture
def admin_user_ui(db) -> Any:
    return make_user("alice-admin", superuser=True)


@pytest.fixture
def observer_user(db) -> Any:
    return make_user("oscar-observer", role="observer")


@pytest.fixture
def admin_client_ui(client, admin_user_ui):
    client.force_login(admin_user_ui)
    return client


@pytest.fixture
def observer_client(client, observer_user):
    client.force_login(observer_user)
    return client


@pytest.fixture
def secret(db) -> EnrollSecret:
    return EnrollSecret.objects.create(name="default", secret="acme-osquery-enroll-7Gq2Zp")


class SimulatedAgent:
    """An osquery agent speaking the TLS API over real HTTP, built from the recorded vectors."""

    def __init__(self, base_url: str, enroll_request: dict[str, Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.enroll_request = enroll_request
        self.node_key = ""

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base_url}/api/osquery/{endpoint}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
        assert isinstance(reply, dict)
        return reply

    def enroll(self) -> "SimulatedAgent":
        reply = self.post("enroll", self.enroll_request)
        assert "node_key" in reply, reply
        self.node_key = reply["node_key"]
        return self

    def config(self) -> dict[str, Any]:
        return self.post("config", {"node_key": self.node_key})

    def read(self) -> dict[str, str]:
        reply = self.post("distributed/read", {"node_key": self.node_key})
        return reply.get("queries", {})

    def answer(self, query_id: str, rows: list[dict[str, Any]], *, status: int = 0, message: str = "") -> None:
        reply = self.post(
            "distributed/write",
            {
                "node_key": self.node_key,
                "queries": {query_id: rows},
                "statuses": {query_id: status},
                "messages": {query_id: message},
            },
        )
        assert "error" not in reply, reply


def mac_enroll_request(vectors: dict[str, Any], n: int, hostname: str | None = None) -> dict[str, Any]:
    request = copy.deepcopy(vectors["enroll"]["request_macos"])
    uuid = f"4C2A9E1B-7D3F-5A8E-9B61-{n:012d}"
    name = hostname or f"mac-{n:03d}.local"
    request["host_identifier"] = uuid
    details = request["host_details"]
    details["system_info"].update({"hostname": name, "uuid": uuid, "hardware_serial": f"C7QX{n:06d}"})
    details["osquery_info"]["uuid"] = uuid
    return request


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the tests still touch the
    # database synchronously from it, which is safe here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fleetweb-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        yield context
        context.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[Any]:
    # Depends on live_server so the page (and any event stream it holds open) closes first.
    browser.clear_cookies()
    page = browser.new_page()
    # The pages run under a Content-Security-Policy (fleetweb/csp.py); anything it blocks, the
    # browser reports on the console, and the test fails.
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    page.close()
    assert not violations, violations


def login(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top nav")


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


NGINX_CONF = """
worker_processes 1;
error_log {prefix}/error.log;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            # A plain reverse proxy: nginx's defaults (response buffering on) plus the Host header.
            proxy_pass http://{upstream};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
        }}
    }}
}}
"""


@pytest.fixture
def nginx_proxy(live_server) -> Iterator[str]:
    """nginx in front of the live server; yields the proxy's base URL."""
    import shutil
    import socket
    import subprocess
    import time

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    upstream = live_server.url.split("://", 1)[1]
    with tempfile.TemporaryDirectory(prefix="fleetweb-nginx-") as prefix:
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, upstream=upstream))
        process = subprocess.Popen([nginx, "-p", prefix, "-c", str(conf), "-g", "daemon off;"])
        try:
            for _ in range(100):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if process.poll() is not None:
                        raise RuntimeError(f"nginx exited: {(Path(prefix) / 'error.log').read_text()}") from None
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)
