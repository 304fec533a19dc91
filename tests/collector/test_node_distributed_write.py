"""distributed/write: results, failure statuses, messages and stats land on the campaign."""

import copy
import json

import pytest

from fleetweb.redis import get_redis
from hosts.models import Host
from queries.live import campaign_launch, campaign_query_id, pending_key
from queries.models import CampaignHost
from tests.conftest import REALWORLD

WRITE_PATHS = ["/api/osquery/distributed/write", "/api/v1/osquery/distributed/write", "/api/v1/distributed/write"]


@pytest.fixture
def launch(enrolled_mac, django_capture_on_commit_callbacks):
    host = Host.objects.get()

    def launch_for(sql: str) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return campaign_query_id(campaign_launch(sql=sql, host_ids=[host.id]).pk)

    return launch_for


def _retarget(body: dict, ids: dict[str, str]) -> dict:
    """The vector body with its query ids replaced by live campaign ids."""
    body = copy.deepcopy(body)
    body.pop("node_key", None)
    for section in ("queries", "statuses", "messages", "stats"):
        if section in body:
            body[section] = {ids.get(k, k): v for k, v in body[section].items()}
    return body


def _answer(query_id: str) -> CampaignHost:
    return CampaignHost.objects.get(campaign_id=int(query_id.rsplit("_", 1)[1]))


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_full_write_is_stored(enrolled_mac, vectors, launch, django_capture_on_commit_callbacks, path):
    read = vectors["distributed"]["read_response"]["queries"]
    write = vectors["distributed"]["write_request"]
    ids = {vector_id: launch(read[vector_id]) for vector_id in write["queries"]}
    assert set(enrolled_mac.call("distributed/read")["queries"]) == set(ids.values())

    enrolled_mac.prefix = path.rsplit("/", 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        reply = enrolled_mac.call(path.rsplit("/", 1)[1], _retarget(write, ids))

    assert reply == {}
    ok = _answer(ids["fleet_distributed_query_41"])
    assert ok.status == CampaignHost.Status.SUCCEEDED
    assert ok.rows == [{"version": "5.23.1", "build_platform": "darwin"}]
    assert ok.row_count == 1
    assert ok.error == ""
    assert ok.stats == {"wall_time_ms": 1, "user_time": 0, "system_time": 1, "memory": 0}
    assert ok.answered_at is not None
    failed = _answer(ids["fleet_distributed_query_42"])
    assert failed.status == CampaignHost.Status.FAILED
    assert failed.error == "no such table: does_not_exist"
    assert failed.rows == []
    assert _answer(ids["fleet_carve_7"]).rows[0]["carve_guid"] == "6f1d2c3b-8a7e-4f60-9b1c-2d3e4f5a6b7c"
    # Answered work is no longer handed out.
    enrolled_mac.prefix = "/api/osquery"
    assert enrolled_mac.call("distributed/read") == {"queries": {}}


def test_denylisted_query_is_a_failure_with_its_message(enrolled_mac, vectors, launch):
    query_id = launch("SELECT * FROM processes;")
    body = _retarget(vectors["distributed"]["write_request_denylisted"], {"fleet_distributed_query_77": query_id})

    assert enrolled_mac.call("distributed/write", body) == {}

    answer = _answer(query_id)
    assert answer.status == CampaignHost.Status.FAILED
    assert answer.error == "distributed query is denylisted"
    assert answer.stats == {}
    assert answer.rows == []


def test_older_agent_without_stats_and_messages(enrolled_mac, vectors, launch):
    query_id = launch("SELECT version FROM osquery_info;")
    body = {"queries": {query_id: [{"version": "4.9.0"}]}, "statuses": {query_id: 0}}

    assert enrolled_mac.call("distributed/write", body) == {}

    answer = _answer(query_id)
    assert (answer.status, answer.rows, answer.stats) == (CampaignHost.Status.SUCCEEDED, [{"version": "4.9.0"}], {})


def test_agent_without_statuses_at_all(enrolled_mac, launch):
    query_id = launch("SELECT 1;")

    assert enrolled_mac.call("distributed/write", {"queries": {query_id: [{"1": "1"}]}}) == {}

    assert _answer(query_id).status == CampaignHost.Status.SUCCEEDED


def test_failure_status_with_message(enrolled_mac, launch):
    query_id = launch("SELECT * FROM nope;")
    body = {"queries": {query_id: []}, "statuses": {query_id: 1}, "messages": {query_id: "no such table: nope"}}

    assert enrolled_mac.call("distributed/write", body) == {}

    answer = _answer(query_id)
    assert (answer.status, answer.error) == (CampaignHost.Status.FAILED, "no such table: nope")


def test_resent_write_changes_nothing(enrolled_mac, launch):
    query_id = launch("SELECT 1;")
    enrolled_mac.call("distributed/write", {"queries": {query_id: [{"n": "1"}]}, "statuses": {query_id: 0}})
    first = _answer(query_id)

    enrolled_mac.call("distributed/write", {"queries": {query_id: [{"n": "2"}]}, "statuses": {query_id: 0}})

    again = _answer(query_id)
    assert again.rows == [{"n": "1"}] and again.answered_at == first.answered_at


def test_unknown_query_ids_are_accepted_and_dropped(enrolled_mac, vectors):
    body = {k: v for k, v in vectors["distributed"]["write_request"].items() if k != "node_key"}

    assert enrolled_mac.call("distributed/write", body) == {}
    assert not CampaignHost.objects.exclude(status=CampaignHost.Status.PENDING).exists()


def test_realworld_write_body(enrolled_mac, launch):
    queries = json.loads((REALWORLD / "logs/kolide-fleet-testdata/distributed_write_queries.json").read_text())
    ids = {name: launch(f"SELECT 1 AS {i};") for i, name in enumerate(queries)}
    body = {"queries": {ids[name]: rows for name, rows in queries.items()}, "statuses": dict.fromkeys(ids.values(), 0)}

    assert enrolled_mac.call("distributed/write", body) == {}

    for name, rows in queries.items():
        assert _answer(ids[name]).rows == rows


def test_non_string_cells_become_strings(enrolled_mac, launch):
    query_id = launch("SELECT 1;")
    row = {"n": 1, "f": 1.5, "null": None, "b": True, "obj": {"a": 1}}

    assert enrolled_mac.call("distributed/write", {"queries": {query_id: [row]}}) == {}

    assert _answer(query_id).rows == [{"n": "1", "f": "1.5", "null": "", "b": "true", "obj": '{"a":1}'}]


def test_write_sql_is_bounded(enrolled_mac, launch, with_worker, django_assert_num_queries):
    query_id = launch("SELECT 1;")
    enrolled_mac.call("distributed/read")  # warms the node cache

    # One autocommitted UPDATE per answered live query, no transaction around it.
    with django_assert_num_queries(1):
        assert enrolled_mac.call("distributed/write", {"queries": {query_id: []}, "statuses": {query_id: 0}}) == {}

    with django_assert_num_queries(0):
        assert enrolled_mac.call("distributed/write", {"queries": {"fleet_other_1": []}}) == {}


def test_pending_work_is_cleared_only_after_commit(enrolled_mac, launch):
    query_id = launch("SELECT 1;")
    host_id = Host.objects.get().id

    enrolled_mac.call("distributed/write", {"queries": {query_id: []}, "statuses": {query_id: 0}})

    # The test transaction never commits, so the work must still be pending.
    assert get_redis().hexists(pending_key(host_id), query_id)
