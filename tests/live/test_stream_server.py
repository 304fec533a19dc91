"""SSE through a real HTTP server (granian, as `make run` serves it): results reach the
subscriber while the campaign is still running, chunk by chunk, not buffered until the end."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from tests.agent_sim import sim_fleet

PORT = 20310
REPO = Path(__file__).resolve().parents[2]


def _wait_listening(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start listening")


@pytest.fixture
def server():
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"mysql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    granian = Path(sys.executable).with_name("granian")
    proc = subprocess.Popen(
        [str(granian), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(PORT), "--workers", "1",
         "--blocking-threads", "4", "fleetweb.wsgi:application"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_listening(proc, PORT)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _next_event(stream) -> dict:
    event: dict = {}
    while True:
        line = stream.readline().decode()
        if not line:
            raise AssertionError("stream closed early")
        line = line.rstrip("\n")
        if not line:
            if "event" in event:
                return event
            continue
        if not line.startswith(":"):
            key, _, value = line.partition(": ")
            event[key] = value


@pytest.mark.django_db(transaction=True)
def test_results_stream_through_a_real_server(client, enroll_secret, server):
    agents = sim_fleet(client, 3)
    for agent in agents:
        agent.checkin()
    api = Client()
    api.force_login(get_user_model().objects.create_superuser(username="soc", password="x" * 12))
    campaign = api.post(
        "/api/v1/fleetweb/campaigns",
        {"sql": "SELECT version FROM osquery_info;", "targets": {"all": True}},
        "application/json",
    ).json()
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request(
        "GET",
        f"/api/v1/fleetweb/campaigns/{campaign['id']}/stream",
        headers={"Cookie": f"sessionid={api.cookies['sessionid'].value}", "Accept": "text/event-stream"},
    )
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    assert _next_event(response)["event"] == "progress"

    agents[0].checkin()
    first = _next_event(response)
    # Delivered while two hosts have not even checked in.
    assert (first["event"], first["id"]) == ("result", "1")
    agents[1].checkin()
    agents[2].checkin()
    seen = [first]
    while seen[-1]["event"] != "end":
        seen.append(_next_event(response))
    assert [e["id"] for e in seen if e["event"] == "result"] == ["1", "2", "3"]
    assert '"status":"completed"' in seen[-1]["data"]
    conn.close()
