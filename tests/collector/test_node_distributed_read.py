"""distributed/read: pending live queries, well-formed for the agent, with no SQL in steady state."""

import pytest

from collector import distributed
from collector.distributed import ReadWork
from hosts import presence
from hosts.models import Host
from queries.live import campaign_launch, campaign_query_id

READ_PATHS = ["/api/osquery/distributed/read", "/api/v1/osquery/distributed/read", "/api/v1/distributed/read"]


@pytest.fixture
def campaign(enrolled_mac, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return campaign_launch(
            sql="SELECT version FROM osquery_info;", host_ids=[Host.objects.get(platform="darwin").id]
        )


def test_nothing_pending(enrolled_mac):
    assert enrolled_mac.call("distributed/read") == {"queries": {}}


@pytest.mark.parametrize("path", READ_PATHS)
def test_pending_live_query_is_handed_out(enrolled_mac, campaign, path):
    enrolled_mac.prefix = path.rsplit("/", 1)[0]
    reply = enrolled_mac.call(path.rsplit("/", 1)[1])

    assert reply == {"queries": {campaign_query_id(campaign.pk): "SELECT version FROM osquery_info;"}}


def test_node_key_from_the_header_only(enrolled_mac, campaign):
    _, reply = enrolled_mac.post("distributed/read", {}, use_header=True)

    assert list(reply["queries"]) == [campaign_query_id(campaign.pk)]


def test_other_hosts_do_not_get_it(enrolled_mac, enrolled_linux, campaign):
    assert enrolled_linux.call("distributed/read") == {"queries": {}}


def test_steady_state_read_is_one_redis_call_and_no_sql(
    enrolled_mac, campaign, with_worker, django_assert_num_queries, redis_round_trips
):
    enrolled_mac.call("distributed/read")  # the first request caches the node key
    redis_round_trips.count = 0

    with django_assert_num_queries(0):
        reply = enrolled_mac.call("distributed/read")

    assert redis_round_trips.count == 1
    assert list(reply["queries"]) == [campaign_query_id(campaign.pk)]


def test_read_records_last_seen(enrolled_mac, with_worker):
    host = Host.objects.get()
    Host.objects.filter(id=host.id).update(last_seen_at=None)
    enrolled_mac.call("distributed/read")
    enrolled_mac.call("distributed/read")

    seen = presence.seen_recently(host.id)
    assert seen is not None
    assert presence.last_seen_flush() == 1
    host.refresh_from_db()
    assert host.last_seen_at == seen


def test_accelerate_is_an_int_and_malformed_work_is_dropped(enrolled_mac, monkeypatch):
    def provider(node, now):
        return ReadWork(
            queries={"fleetweb_test_ok": "SELECT 1;", "fleetweb_test_blank": " ", "": "SELECT 2;"},
            discovery={"fleetweb_test_ok": "SELECT 1 FROM os_version WHERE platform = 'darwin';", "gone": "SELECT 1;"},
            accelerate=60,
        )

    monkeypatch.setattr(distributed, "_read_providers", [provider])

    reply = enrolled_mac.call("distributed/read")

    assert reply == {
        "queries": {"fleetweb_test_ok": "SELECT 1;"},
        "discovery": {"fleetweb_test_ok": "SELECT 1 FROM os_version WHERE platform = 'darwin';"},
        "accelerate": 60,
    }
    assert type(reply["accelerate"]) is int


def test_read_reply_shape_matches_what_the_agent_accepts(enrolled_mac, campaign, vectors):
    reply = enrolled_mac.call("distributed/read")

    # Same members and types as the protocol's read_response.
    expected = vectors["distributed"]["read_response"]
    assert set(reply) <= set(expected)
    assert all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in reply["queries"].items())
