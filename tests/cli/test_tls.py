"""fleetctl over real TLS: granian serving fleetweb with a self-signed certificate."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hosts.tls import ensure_self_signed_cert
from tests.conftest import REPO

from .conftest import Cli

PORTS = range(20440, 20460)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the assigned range")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory) -> Iterator[dict]:
    """granian over HTTPS in embedded mode (SQLite), with an admin and an API token."""
    workdir: Path = tmp_path_factory.mktemp("tls")
    cert, key = workdir / "server.crt", workdir / "server.key"
    ensure_self_signed_cert(cert, key, "localhost")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE")
    }
    env.update(FLEETWEB_EMBEDDED="true", DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}")
    run = {"cwd": REPO, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], **run)  # type: ignore[call-overload]
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from accounts.models import Profile, ApiToken\n"
        "from accounts.tokens import token_issue\n"
        "u = get_user_model().objects.create_user(username='ops@example.com', email='ops@example.com')\n"
        "Profile.objects.create(user=u, role='maintainer', api_only=True)\n"
        "print(token_issue(user=u, kind=ApiToken.Kind.API)[1])\n"
    )
    shell = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], **run)  # type: ignore[call-overload]
    token = shell.stdout.strip().splitlines()[-1]
    port = _free_port()
    log = (workdir / "granian.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--host", "127.0.0.1"]
        + ["--port", str(port), "--workers", "1", "--ssl-certificate", str(cert), "--ssl-keyfile", str(key)]
        + ["fleetweb.wsgi:application"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                try:
                    process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    continue
                raise RuntimeError(f"granian exited with {process.returncode}") from None
        yield {"url": f"https://localhost:{port}", "cert": str(cert), "token": token}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def tls_cli(tls_server, tmp_path) -> Cli:
    cli = Cli(tmp_path / "config", tmp_path)
    cli.run("config", "set", "--address", tls_server["url"], "--token", tls_server["token"])
    return cli


def test_self_signed_certificate_is_explained(tls_cli):
    proc = tls_cli.run("debug", "connection", check=False)
    assert proc.returncode == 1
    assert "FAIL TLS: certificate not trusted: the certificate is self-signed: pass --rootca" in proc.stdout
    proc = tls_cli.run("get", "hosts", check=False)
    assert proc.returncode == 1 and "TLS error" in proc.stderr and "--rootca" in proc.stderr


def test_rootca_makes_everything_work(tls_cli, tls_server):
    tls_cli.run("config", "set", "--rootca", tls_server["cert"])
    proc = tls_cli.run("debug", "connection")
    assert "OK   TLS" in proc.stdout and "certificate valid until" in proc.stdout
    assert "OK   token accepted: logged in as ops@example.com (maintainer)" in proc.stdout
    assert "OK   agent API answers" in proc.stdout
    assert "HOSTNAME" in tls_cli.run("get", "hosts").stdout


def test_skip_verify_is_allowed_but_warned(tls_cli):
    tls_cli.run("config", "set", "--tls-skip-verify")
    proc = tls_cli.run("debug", "connection")
    assert "WARN TLS" in proc.stdout and "without verifying" in proc.stdout
