import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from accounts.models import Profile
from hosts.models import EnrollSecret

# The live server listens on a fixed local port (tests bind only to their assigned range).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1:20431")

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-9"


class Cli:
    """Runs the installed fleetctl command (python -m fleetctl) against the live server."""

    def __init__(self, config: Path, cwd: Path) -> None:
        self.env = {**os.environ, "FLEETCTL_CONFIG": str(config), "PYTHONPATH": str(REPO)}
        self.cwd = cwd

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "fleetctl", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert proc.returncode == 0, f"fleetctl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "fleetctl", *args],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def admin_user(transactional_db, settings):
    from django.contrib.auth import get_user_model

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = get_user_model().objects.create_user(
        username="admin@example.com", email="admin@example.com", password=PASSWORD
    )
    Profile.objects.create(user=user, role="admin")
    return user


@pytest.fixture
def cli(live_server, admin_user, tmp_path) -> Cli:
    cli = Cli(tmp_path / "fleetctl-config", tmp_path)
    cli.run("config", "set", "--address", live_server.url)
    cli.run("login", "--email", "admin@example.com", "--password", PASSWORD)
    return cli


class SimAgent:
    """A simulated osquery agent speaking the TLS API over HTTP to the live server.

    `answers` maps SQL to rows (or an Exception message string for a failing query). `gate`,
    when set, must be released before the agent answers, so tests can order answers.
    """

    def __init__(self, base: str, name: str, platform: str = "linux") -> None:
        self.base = base
        self.name = name
        self.platform = platform
        self.node_key = ""
        self.answers: dict[str, Any] = {}
        self.gate: threading.Event | None = None
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def enroll(self, secret: str) -> None:
        body = {
            "enroll_secret": secret,
            "host_identifier": self.name,
            "platform_type": "9",
            "host_details": {
                "os_version": {"name": "Ubuntu", "version": "22.04", "platform": "ubuntu", "platform_like": "debian"},
                "osquery_info": {"version": "5.12.1"},
                "system_info": {
                    "hostname": self.name,
                    "uuid": f"UUID-{self.name}",
                    "hardware_serial": f"SN-{self.name}",
                },
            },
        }
        reply = httpx.post(f"{self.base}/api/osquery/enroll", json=body, timeout=10).json()
        assert "node_key" in reply, reply
        self.node_key = reply["node_key"]

    def poll_once(self) -> bool:
        reply = httpx.post(
            f"{self.base}/api/osquery/distributed/read", json={"node_key": self.node_key}, timeout=10
        ).json()
        live = {qid: sql for qid, sql in reply.get("queries", {}).items() if qid.startswith("fleetweb_live")}
        if not live:
            return False
        if self.gate is not None:
            self.gate.wait(60)
        queries, statuses, messages = {}, {}, {}
        for qid, sql in live.items():
            answer = self.answers.get(sql, [])
            if isinstance(answer, str):
                queries[qid], statuses[qid], messages[qid] = [], 1, answer
            else:
                queries[qid], statuses[qid] = answer, 0
        body = {"node_key": self.node_key, "queries": queries, "statuses": statuses, "messages": messages}
        reply = httpx.post(f"{self.base}/api/osquery/distributed/write", json=body, timeout=10).json()
        assert "error" not in reply, reply
        return True

    def start(self) -> None:
        def loop() -> None:
            while not self.stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    self.poll_once()
                self.stop.wait(0.2)

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        if self.gate is not None:
            self.gate.set()
        if self.thread is not None:
            self.thread.join(10)


@pytest.fixture
def agents(live_server, transactional_db):
    secret = EnrollSecret.objects.create(name="default", secret="acme-osquery-enroll-7Gq2Zp")
    made: list[SimAgent] = []

    def make(name: str) -> SimAgent:
        agent = SimAgent(live_server.url, name)
        agent.enroll(secret.secret)
        made.append(agent)
        return agent

    yield make
    for agent in made:
        agent.close()
