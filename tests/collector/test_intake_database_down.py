"""MariaDB unreachable during intake: the agent's reply carries `error`, so it keeps the lines
and retries; only batches that were committed were acknowledged. Runs the real server (granian)
against a private MariaDB that the test stops and starts."""

import json
import subprocess

import httpx
import pytest

from .logdata import all_batches
from .private_mariadb import PrivateMariaDB
from .processes import VENV_BIN, fleetweb_env, kill_group, start, wait_until
from .receivers import pick_port

SECRET = "private-db-enroll-secret"


@pytest.fixture
def private_db():
    server = PrivateMariaDB(pick_port())
    yield server
    server.destroy()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args], env=env, check=True, capture_output=True, cwd=env["PYTHONPATH"]
    )


def test_database_down_means_no_acknowledgement(private_db, tmp_path, vectors):
    private_db.sql("CREATE DATABASE fleetweb CHARACTER SET utf8mb4")
    # Short-lived connections: the server must notice the restarted database by itself.
    env = fleetweb_env(private_db.url, CONN_MAX_AGE="0", CELERY_TASK_ALWAYS_EAGER="true")
    manage(env, "migrate", "--noinput")
    manage(
        env,
        "shell",
        "-c",
        f"from hosts.models import EnrollSecret; EnrollSecret.objects.create(name='d', secret='{SECRET}')",
    )
    port = pick_port()
    server = start(
        [
            str(VENV_BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "fleetweb.wsgi:application",
        ],
        env,
        tmp_path / "server.log",
    )
    base = f"http://127.0.0.1:{port}/api/osquery"

    def answers() -> bool:
        try:
            httpx.get(base + "/log", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    def post(endpoint: str, body: dict) -> dict:
        reply = httpx.post(
            f"{base}/{endpoint}", content=json.dumps(body), timeout=30, headers={"Content-Type": "application/json"}
        )
        assert reply.headers["Content-Type"].startswith("application/json")
        return reply.json()

    try:
        wait_until(answers, 60, "the server to listen")
        enroll = dict(vectors["enroll"]["request_macos"], enroll_secret=SECRET)
        node_key = post("enroll", enroll)["node_key"]
        batches = [(log_type, lines) for _, log_type, lines in all_batches() if lines]

        acknowledged = []
        for log_type, lines in batches[:3]:
            assert post("log", {"node_key": node_key, "log_type": log_type, "data": lines}) == {}
            acknowledged.append(len(lines))

        private_db.stop()
        for log_type, lines in batches[3:6]:
            reply = post("log", {"node_key": node_key, "log_type": log_type, "data": lines})
            assert "error" in reply and "retry" in reply["error"], reply

        private_db.start()
        # The agent retries what was refused, then sends the rest.
        for log_type, lines in batches[3:]:
            assert post("log", {"node_key": node_key, "log_type": log_type, "data": lines}) == {}
            acknowledged.append(len(lines))
    finally:
        kill_group(server)

    stored = private_db.sql("SELECT COUNT(*), COALESCE(SUM(line_count), 0) FROM fleetweb.collector_logbatch").split()
    assert [int(n) for n in stored] == [len(acknowledged), sum(acknowledged)]
    assert sum(acknowledged) == sum(len(lines) for _, lines in batches)
