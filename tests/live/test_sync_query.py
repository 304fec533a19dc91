"""Run a query on one host and wait for it: answered in time, or a clear timeout."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from hosts.models import Host
from queries.models import Campaign
from tests.agent_sim import sim_fleet


def _api() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="responder", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    return client


def _agent_loop(agent, stop: threading.Event) -> None:
    """The agent's distributed loop: check in until told to stop (accelerated agents poll every 5 s;
    here without the sleep)."""
    try:
        while not stop.is_set():
            work = agent.checkin()
            if any(q.startswith("fleetweb_live_") for q in work.get("queries", {})):
                return
            stop.wait(0.05)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("by", ["id", "identifier"])
def test_sync_query_returns_rows(client, enroll_secret, by):
    (agent,) = sim_fleet(client, 1)
    agent.checkin()
    host = Host.objects.get()
    stop = threading.Event()
    loop = threading.Thread(target=_agent_loop, args=(agent, stop))
    loop.start()
    path = f"hosts/{host.pk}/query" if by == "id" else f"hosts/identifier/{host.hardware_serial}/query"
    try:
        reply = _api().post(
            f"/api/v1/fleetweb/{path}",
            {"query": "SELECT hostname, cpu_brand FROM system_info;", "timeout": 30},
            content_type="application/json",
        )
    finally:
        stop.set()
        loop.join(timeout=30)
    assert reply.status_code == 200, reply.content
    assert reply.json() == {
        "host_id": host.pk,
        "query": "SELECT hostname, cpu_brand FROM system_info;",
        "status": "online",
        "rows": [{"hostname": "mac-000.corp.example", "cpu_brand": "Apple M2 Pro"}],
        "error": None,
    }
    assert Campaign.objects.get().status == "completed"


@pytest.mark.django_db(transaction=True)
def test_sync_query_times_out_and_cleans_up(client, enroll_secret):
    (agent,) = sim_fleet(client, 1)
    agent.checkin()
    host = Host.objects.get()
    reply = (
        _api()
        .post(
            f"/api/v1/fleetweb/hosts/{host.pk}/query",
            {"query": "SELECT 1;", "timeout": 1},
            content_type="application/json",
        )
        .json()
    )
    assert reply["rows"] == [] and reply["error"] == "timeout waiting for results after 1 s"
    assert Campaign.objects.get().status == "expired"
    # The host is no longer asked for the abandoned query.
    assert not any(q.startswith("fleetweb_live_") for q in agent.checkin()["queries"])


@pytest.mark.django_db(transaction=True)
def test_sync_query_reports_the_agents_error(client, enroll_secret):
    (agent,) = sim_fleet(client, 1)
    agent.checkin()
    host = Host.objects.get()
    stop = threading.Event()
    loop = threading.Thread(target=_agent_loop, args=(agent, stop))
    loop.start()
    try:
        reply = (
            _api()
            .post(
                f"/api/v1/fleetweb/hosts/{host.pk}/query",
                {"query": "SELECT * FROM nope;"},
                content_type="application/json",
            )
            .json()
        )
    finally:
        stop.set()
        loop.join(timeout=30)
    assert reply["error"] == "no such table: nope"


@pytest.mark.django_db
def test_sync_query_bad_input(client, enroll_secret):
    sim_fleet(client, 1)
    host = Host.objects.get()
    api = _api()
    assert api.post(f"/api/v1/fleetweb/hosts/{host.pk}/query", {"query": " "}, "application/json").json() == {
        "error": "query must be a non-empty SQL string"
    }
    assert api.post(
        f"/api/v1/fleetweb/hosts/{host.pk}/query", {"query": "SELECT 1", "timeout": "x"}, "application/json"
    ).json() == {"error": "timeout must be a number of seconds between 0 and 120"}
    # A waiting caller holds a server thread: absurd deadlines are refused, not honoured.
    for timeout in (100000, -1, 0):
        reply = api.post(
            f"/api/v1/fleetweb/hosts/{host.pk}/query", {"query": "SELECT 1", "timeout": timeout}, "application/json"
        )
        assert reply.status_code == 400
        assert "between 0 and 120" in reply.json()["error"]
    assert not Campaign.objects.exists()
    assert (
        api.post(
            "/api/v1/fleetweb/hosts/identifier/nobody/query", {"query": "SELECT 1"}, "application/json"
        ).status_code
        == 404
    )
