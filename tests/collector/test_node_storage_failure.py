"""When storage fails, the agent gets `error` (so it keeps its data and retries), never `{}`."""

import pytest
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from collector.models import LogBatch
from hosts.models import Host
from queries.live import campaign_launch, campaign_query_id
from queries.models import CampaignHost


def _fail(*args, **kwargs):
    raise OperationalError(2006, "MySQL server has gone away")


def _assert_retry_later(status: int, reply: dict) -> None:
    assert reply == {"error": "server storage is temporarily unavailable; retry later"}
    assert status == 503


def test_log_insert_failure(enrolled_mac, vectors, monkeypatch):
    enrolled_mac.call("config")  # node key cached, so only the insert touches the database
    monkeypatch.setattr("collector.services.logs.insert_row", _fail)

    status, reply = enrolled_mac.post("log", dict(vectors["logger"]["status"], node_key=enrolled_mac.node_key))

    _assert_retry_later(status, reply)
    monkeypatch.undo()
    assert not LogBatch.objects.exists()


def test_distributed_write_failure(enrolled_mac, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        query_id = campaign_query_id(campaign_launch(sql="SELECT 1;", host_ids=[Host.objects.get().id]).pk)
    enrolled_mac.call("distributed/read")
    monkeypatch.setattr("django.db.models.query.QuerySet.update", _fail)

    status, reply = enrolled_mac.post(
        "distributed/write", {"node_key": enrolled_mac.node_key, "queries": {query_id: []}, "statuses": {query_id: 0}}
    )

    _assert_retry_later(status, reply)
    monkeypatch.undo()
    assert CampaignHost.objects.get().status == CampaignHost.Status.PENDING
    assert list(enrolled_mac.call("distributed/read")["queries"]) == [query_id]


def test_enroll_failure(agent, enroll_secret, vectors, monkeypatch):
    monkeypatch.setattr(Host, "save", _fail)

    status, reply = agent.post("enroll", vectors["enroll"]["request_macos"])

    _assert_retry_later(status, reply)
    assert "node_key" not in reply


@pytest.mark.parametrize("endpoint", ["config", "distributed/read", "log"])
def test_redis_failure(enrolled_mac, vectors, monkeypatch, endpoint):
    def down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr("redis.client.Redis.execute_command", down)
    monkeypatch.setattr("redis.client.Pipeline.execute", down)
    body = {"log_type": "status", "data": vectors["logger"]["status"]["data"]} if endpoint == "log" else {}

    status, reply = enrolled_mac.post(endpoint, dict(body, node_key=enrolled_mac.node_key))

    _assert_retry_later(status, reply)
    monkeypatch.undo()
    assert not LogBatch.objects.exists()
