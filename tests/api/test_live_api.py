"""Campaigns through the Fleet routes: targeting by ids, identifiers and labels, results by
offset, who may read them, stopping."""

import pytest
from django.utils import timezone

from hosts.models import Host
from queries.models import Campaign, Label, Query


@pytest.fixture
def hosts(db):
    now = timezone.now()
    return [
        Host.objects.create(
            host_identifier=f"h{i}", hostname=f"web-{i}", uuid=f"U{i}", platform="linux", last_seen_at=now
        )
        for i in range(3)
    ]


def test_run_by_ids_and_labels(apis, hosts):
    label = Label.objects.create(name="web", membership=Label.Membership.MANUAL)
    label.hosts.add(hosts[2])
    status, body = apis["maintainer"].post(
        "queries/run", {"query": "SELECT 1;", "selected": {"hosts": [hosts[0].pk], "labels": [label.pk]}}
    )
    assert status == 200, body
    campaign = body["campaign"]
    assert campaign["metrics"]["TotalHosts"] == 2 and campaign["metrics"]["OnlineHosts"] == 2
    assert campaign["status"] == "running"


def test_run_by_identifiers_errors(apis, hosts):
    api = apis["observer_plus"]
    status, body = api.post("queries/run_by_identifiers", {"query": "SELECT 1;", "selected": {"labels": ["nope"]}})
    assert status == 400 and body["errors"][0]["reason"] == "[nope] Invalid label name(s)"
    status, body = api.post("queries/run_by_identifiers", {"query": "SELECT 1;", "selected": {"hosts": ["ghost"]}})
    assert status == 400 and "ghost" in body["errors"][0]["reason"]
    status, body = api.post("queries/run_by_identifiers", {"query": " ", "selected": {"hosts": ["web-0"]}})
    assert status == 422
    status, body = api.post("queries/run_by_identifiers", {"query": "SELECT 1;", "selected": {}})
    assert status == 400 and body["errors"][0]["reason"] == "no hosts targeted"
    assert Campaign.objects.count() == 0


def test_saved_query_by_id(apis, hosts):
    query = Query.objects.create(name="uptime", sql="SELECT * FROM uptime;")
    status, body = apis["observer_plus"].post(
        "queries/run_by_identifiers", {"query_id": query.pk, "selected": {"hosts": ["U1"]}}
    )
    assert status == 200
    campaign = Campaign.objects.get(pk=body["campaign"]["id"])
    assert campaign.sql == query.sql and body["campaign"]["query_id"] == query.pk


def test_results_only_for_launcher_or_admin_and_stop(apis, hosts):
    status, body = apis["observer_plus"].post(
        "queries/run_by_identifiers", {"query": "SELECT 1;", "selected": {"hosts": ["web-0", "web-1"]}}
    )
    campaign_id = body["campaign"]["id"]
    status, body = apis["observer_plus"].get(f"queries/run/{campaign_id}", offset=0)
    assert status == 200
    assert body["results"] == [] and body["offset"] == 0
    assert body["totals"]["count"] == 2 and body["totals"]["pending"] == 2
    assert apis["maintainer"].get(f"queries/run/{campaign_id}")[0] == 404
    assert apis["admin"].get(f"queries/run/{campaign_id}")[0] == 200
    assert apis["observer_plus"].get(f"queries/run/{campaign_id}", offset="x")[0] == 400
    assert apis["observer_plus"].delete(f"queries/run/{campaign_id}") == (200, {})
    status, body = apis["observer_plus"].get(f"queries/run/{campaign_id}")
    assert body["totals"]["campaign_status"] == "stopped" and body["totals"]["pending"] == 0


def test_results_stream_by_offset(apis, hosts, client, enroll_secret, vectors, django_capture_on_commit_callbacks):
    from tests.conftest import AgentClient

    agent = AgentClient(client)
    reply = agent.enroll(vectors["enroll"]["request_macos"])
    host = Host.objects.get(
        node_key_hash__isnull=False, host_identifier=vectors["enroll"]["request_macos"]["host_identifier"]
    )
    assert "node_key" in reply
    with django_capture_on_commit_callbacks(execute=True):
        status, body = apis["admin"].post(
            "queries/run", {"query": "SELECT 7 AS n;", "selected": {"hosts": [host.pk, hosts[0].pk]}}
        )
    campaign_id = body["campaign"]["id"]
    read = agent.call("distributed/read")
    (query_id,) = [q for q in read["queries"] if q.startswith("fleetweb_live")]
    with django_capture_on_commit_callbacks(execute=True):
        agent.call("distributed/write", {"queries": {query_id: [{"n": "7"}]}, "statuses": {query_id: 0}})
    status, body = apis["admin"].get(f"queries/run/{campaign_id}", offset=0)
    assert [(r["host"]["id"], r["rows"]) for r in body["results"]] == [(host.pk, [{"n": "7"}])]
    assert body["offset"] == 1 and body["totals"]["responded"] == 1
    status, body = apis["admin"].get(f"queries/run/{campaign_id}", offset=1)
    assert body["results"] == [] and body["offset"] == 1
