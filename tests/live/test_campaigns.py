"""Live queries end to end: simulated agents on the real protocol, results streamed over SSE."""

import threading
from datetime import timedelta

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import Activity
from fleetweb.redis import get_redis
from hosts.models import Host
from queries.live import campaign_expire_due, campaign_progress, campaign_results_since
from queries.models import Campaign, CampaignHost
from tests.agent_sim import DENYLISTED, sim_fleet, sse_events

SQL = "SELECT version, build_platform FROM osquery_info;"
DISCOVERY = "SELECT 1 FROM system_info WHERE hostname != '';"


def _admin_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="analyst", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    return client


def _launch(api: Client, **body) -> dict:
    response = api.post("/api/v1/fleetweb/campaigns", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def _settle(agents) -> None:
    """Check in until vitals, labels and policies are out of the way."""
    for agent in agents:
        agent.checkin()


@pytest.mark.django_db(transaction=True)
def test_live_query_on_50_hosts_streams_and_expires(client, enroll_secret):
    agents = sim_fleet(client, 50)
    _settle(agents)
    offline, failing, denylisted, filtered = agents[:5], agents[5], agents[6], agents[7]
    online = agents[5:]
    offline_ids = [Host.objects.get(uuid=a.enroll_request["host_details"]["system_info"]["uuid"]).pk for a in offline]
    Host.objects.filter(pk__in=offline_ids).update(last_seen_at=timezone.now() - timedelta(hours=2))
    get_redis().hdel("lastseen", *[str(i) for i in offline_ids])
    failing.db.execute("DROP TABLE osquery_info")
    denylisted.denylisted.add(SQL)
    filtered.discovery_false.add(DISCOVERY)

    api = _admin_client()
    launched = _launch(api, sql=SQL, discovery=DISCOVERY, targets={"all": True})
    campaign = Campaign.objects.get(pk=launched["id"])
    assert launched["target_count"] == 50
    assert launched["progress"]["offline"] == 5

    # A subscriber attached before any host answers sees every result as it arrives.
    events: list[dict] = []

    def subscribe() -> None:
        try:
            response = _admin_client().get(f"/api/v1/fleetweb/campaigns/{campaign.pk}/stream")
            assert response["Content-Type"] == "text/event-stream"
            events.extend(sse_events(response.streaming_content))
        finally:
            connection.close()

    subscriber = threading.Thread(target=subscribe)
    subscriber.start()

    for agent in online:
        agent.checkin()
    # The filtered host never answers; after repeated silent deliveries it stops holding the campaign.
    filtered.checkin()
    filtered.checkin()
    progress = campaign_progress(campaign)
    assert progress == {
        "campaign_id": campaign.pk,
        "status": "running",
        "targeted": 50,
        "responded": 44,
        "succeeded": 42,
        "failed": 2,
        "filtered": 1,
        "pending": 5,
        "offline": 5,
        "no_answer": 0,
    }
    # The offline hosts keep it open until it expires (the beat task).
    assert campaign_expire_due(now=campaign.expires_at + timedelta(seconds=1)) == 1
    subscriber.join(timeout=60)
    assert not subscriber.is_alive()

    results = [e for e in events if e["event"] == "result"]
    assert [int(e["id"]) for e in results] == list(range(1, 46))
    by_host = {e["data"]["host_id"]: e["data"] for e in results}
    assert len(by_host) == 45
    failing_id = Host.objects.get(uuid=failing.enroll_request["host_details"]["system_info"]["uuid"]).pk
    denied_id = Host.objects.get(uuid=denylisted.enroll_request["host_details"]["system_info"]["uuid"]).pk
    assert by_host[failing_id]["status"] == "failed"
    assert by_host[failing_id]["error"] == "no such table: osquery_info"
    assert by_host[denied_id] | {"answered_at": None} == {
        "host_id": denied_id,
        "hostname": by_host[denied_id]["hostname"],
        "status": "failed",
        "rows": [],
        "error": DENYLISTED,
        "stats": {},
        "answered_at": None,
    }
    ok = [r for r in by_host.values() if r["status"] == "succeeded"]
    assert len(ok) == 42
    assert all(r["rows"][0]["version"] == "5.23.1" and r["stats"]["wall_time_ms"] == 3 for r in ok)
    assert events[-1]["event"] == "end" and events[-1]["data"] == {"status": "expired", "results": 45}
    final = [e for e in events if e["event"] == "progress"][-1]["data"]
    assert final["status"] == "expired"
    assert final["succeeded"] + final["failed"] + final["filtered"] + final["no_answer"] == 50
    assert final["no_answer"] == 5

    # Expiry cleaned up: nothing is handed out any more, not even to the offline hosts.
    for agent in offline:
        assert "fleetweb_live_" not in str(agent.checkin().get("queries", {}))
    assert not get_redis().exists(f"lq:{campaign.pk}:left")

    # A late subscriber resuming after event 40 gets the rest, then the end.
    late = _admin_client().get(f"/api/v1/fleetweb/campaigns/{campaign.pk}/stream", headers={"Last-Event-ID": "40"})
    late_events = sse_events(late.streaming_content)
    assert [int(e["id"]) for e in late_events if e["event"] == "result"] == [41, 42, 43, 44, 45]
    assert late_events[-1]["event"] == "end"

    activity = Activity.objects.get(action="live_query")
    assert activity.actor_name == "analyst"
    assert activity.details["target_count"] == 50 and activity.details["sql"] == SQL


@pytest.mark.django_db(transaction=True)
def test_campaign_completes_when_every_host_answered(client, enroll_secret):
    agents = sim_fleet(client, 6)
    _settle(agents)
    api = _admin_client()
    launched = _launch(api, sql=SQL, targets={"platforms": ["darwin", "windows"]})
    assert launched["target_count"] == 4
    for agent in agents:
        agent.checkin()
    campaign = Campaign.objects.get(pk=launched["id"])
    assert campaign.status == "completed"
    poll = api.get(f"/api/v1/fleetweb/campaigns/{campaign.pk}/results?offset=1&wait=5").json()
    assert poll["done"] is True
    assert (poll["offset"], poll["next_offset"], len(poll["results"])) == (1, 4, 3)
    assert poll["progress"]["responded"] == 4


@pytest.mark.django_db(transaction=True)
def test_long_poll_waits_for_the_next_result(client, enroll_secret):
    agents = sim_fleet(client, 2)
    _settle(agents)
    api = _admin_client()
    campaign_id = _launch(api, sql=SQL, targets={"all": True})["id"]
    got: dict = {}

    def poll() -> None:
        try:
            got.update(_admin_client().get(f"/api/v1/fleetweb/campaigns/{campaign_id}/results?wait=30").json())
        finally:
            connection.close()

    poller = threading.Thread(target=poll)
    poller.start()
    agents[0].checkin()
    poller.join(timeout=60)
    assert len(got["results"]) == 1 and got["done"] is False


@pytest.mark.django_db(transaction=True)
def test_stop_on_demand_and_export(client, enroll_secret):
    agents = sim_fleet(client, 3)
    _settle(agents)
    agents[0].table("osquery_info", [{"version": '=HYPERLINK("http://x")', "build_platform": "darwin"}])
    api = _admin_client()
    campaign_id = _launch(api, sql=SQL, targets={"hosts": [agents[0].enroll_request["host_identifier"]]})["id"]
    agents[0].checkin()
    launched = _launch(api, sql=SQL, targets={"all": True})
    stop = api.post(f"/api/v1/fleetweb/campaigns/{launched['id']}/stop").json()
    assert stop["stopped"] is True and stop["progress"]["no_answer"] == 3
    assert "fleetweb_live_" not in str(agents[1].checkin()["queries"])
    assert api.post(f"/api/v1/fleetweb/campaigns/{launched['id']}/stop").json()["stopped"] is False

    csv_body = api.get(f"/api/v1/fleetweb/campaigns/{campaign_id}/export.csv").content.decode()
    header, line = csv_body.strip().splitlines()
    assert header == "host_id,hostname,status,error,version,build_platform"
    assert "'=HYPERLINK" in line  # a formula from agent data is neutralised
    exported = orjson.loads(api.get(f"/api/v1/fleetweb/campaigns/{campaign_id}/export.json").content)
    assert exported["results"][0]["rows"] == [{"version": '=HYPERLINK("http://x")', "build_platform": "darwin"}]
    assert api.get(f"/api/v1/fleetweb/campaigns/{campaign_id}/export.xml").status_code == 400


@pytest.mark.django_db
def test_results_survive_the_redis_copy(client, enroll_secret, django_capture_on_commit_callbacks):
    agents = sim_fleet(client, 2)
    _settle(agents)
    api = _admin_client()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_id = _launch(api, sql=SQL, targets={"all": True})["id"]
    with django_capture_on_commit_callbacks(execute=True):
        for agent in agents:
            agent.checkin()
    campaign = Campaign.objects.get(pk=campaign_id)
    from_redis = campaign_results_since(campaign, 0)
    get_redis().delete(f"lq:{campaign_id}:res")
    from_db = campaign_results_since(campaign, 0)
    assert {r["host_id"] for r in from_db} == {r["host_id"] for r in from_redis}
    assert [r["rows"] for r in from_db] == [r["rows"] for r in from_redis]
    assert CampaignHost.objects.filter(campaign=campaign, status="succeeded").count() == 2


@pytest.mark.django_db
def test_bad_requests_get_precise_errors(client, enroll_secret):
    sim_fleet(client, 1)
    api = _admin_client()
    cases = [
        ({"sql": "", "targets": {"all": True}}, "query SQL is empty"),
        ({"sql": SQL, "targets": {"labels": ["nope"]}}, "unknown label(s): nope"),
        ({"sql": SQL, "targets": {"hosts": ["ghost"]}}, "unknown host(s): ghost"),
        (
            {"sql": SQL, "targets": {"platforms": ["beos"]}},
            "unknown platform(s): beos; use darwin, linux, windows, other",
        ),
        ({"sql": SQL, "targets": {"teams": [1]}}, "unknown target kind(s): teams"),
        ({"sql": SQL, "targets": []}, "targets must be an object with hosts, labels, platforms or all"),
        ({"sql": SQL, "targets": {}}, "no hosts targeted"),
        ({"sql": SQL, "targets": {"all": True}, "ttl": "soon"}, "ttl must be a non-negative integer"),
        ({"sql": 5, "targets": {"all": True}}, "sql must be a string"),
    ]
    for body, message in cases:
        response = api.post("/api/v1/fleetweb/campaigns", body, content_type="application/json")
        assert (response.status_code, response.json()) == (400, {"error": message}), body
    assert api.get("/api/v1/fleetweb/campaigns/999/results?offset=-1").status_code == 404


@pytest.mark.django_db
def test_permissions(client, enroll_secret):
    sim_fleet(client, 1)
    observer = get_user_model().objects.create_user(username="watcher", password="x" * 12)
    api = Client()
    response = api.post("/api/v1/fleetweb/campaigns", {"sql": SQL, "targets": {"all": True}}, "application/json")
    # Anonymous: 401 with a Bearer challenge (the API accepts tokens as well as sessions).
    assert response.status_code == 401
    api.force_login(observer)
    response = api.post("/api/v1/fleetweb/campaigns", {"sql": SQL, "targets": {"all": True}}, "application/json")
    assert response.status_code == 403
    admin = _admin_client()
    campaign_id = _launch(admin, sql=SQL, targets={"all": True})["id"]
    assert api.get(f"/api/v1/fleetweb/campaigns/{campaign_id}").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_beat_task_expires_overdue_campaigns(client, enroll_secret):
    from queries.tasks import campaign_expire_task

    agents = sim_fleet(client, 2)
    _settle(agents)
    launched = _launch(_admin_client(), sql=SQL, targets={"all": True}, ttl=600)
    assert campaign_expire_task.delay().get() == 0
    Campaign.objects.filter(pk=launched["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert campaign_expire_task.delay().get() == 1
    assert Campaign.objects.get(pk=launched["id"]).status == "expired"
    assert not any(q.startswith("fleetweb_live_") for q in agents[0].checkin()["queries"])


@pytest.mark.django_db(transaction=True)
def test_filtered_host_that_answers_late_is_counted(client, enroll_secret):
    (agent,) = sim_fleet(client, 1)
    _settle([agent])
    agent.discovery_false.add(DISCOVERY)
    api = _admin_client()
    campaign_id = _launch(api, sql=SQL, discovery=DISCOVERY, targets={"all": True})["id"]
    for _ in range(3):
        agent.checkin()
    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.status == "completed"
    assert campaign_progress(campaign)["filtered"] == 1
    # A write that was held back (failed and retried by the agent) still lands.
    query_id = f"fleetweb_live_{campaign_id}"
    assert (
        agent.api.call("distributed/write", {"queries": {query_id: [{"version": "5.23.1"}]}, "statuses": {query_id: 0}})
        == {}
    )
    progress = campaign_progress(campaign)
    assert (progress["filtered"], progress["succeeded"]) == (0, 1)
    assert [r["status"] for r in campaign_results_since(campaign, 0)] == ["filtered", "succeeded"]


@pytest.mark.django_db
def test_stream_rejects_a_bad_offset(client, enroll_secret, django_capture_on_commit_callbacks):
    sim_fleet(client, 1)
    api = _admin_client()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_id = _launch(api, sql=SQL, targets={"all": True})["id"]
    response = api.get(f"/api/v1/fleetweb/campaigns/{campaign_id}/stream", headers={"Last-Event-ID": "abc"})
    assert (response.status_code, response.json()) == (400, {"error": "offset must be a non-negative integer"})
