"""The config endpoint: a valid osquery config, byte-stable, cached without SQL."""

import hashlib
import json

import pytest

from hosts.models import Host
from queries.agent_config import config_hash
from queries.models import Pack, Query, ScheduledQuery
from queries.validators import MAX_INTERVAL, RESERVED_NAME_PREFIXES, RESERVED_NAME_SUFFIXES

# Top-level keys osquery reads (protocol doc §8); anything else would be ignored by the agent.
OSQUERY_CONFIG_KEYS = {
    "options",
    "schedule",
    "packs",
    "decorators",
    "file_paths",
    "file_paths_query",
    "exclude_paths",
    "file_accesses",
    "yara",
    "auto_table_construction",
    "events",
    "views",
    "prometheus_targets",
    "feature_vectors",
    "kafka_topics",
    "logger",
}


def _config_bytes(agent) -> bytes:
    response = agent.client.post(
        "/api/osquery/config", json.dumps({"node_key": agent.node_key}), content_type="application/json"
    )
    assert response.status_code == 200
    return response.content


def _assert_valid_osquery_config(raw: bytes) -> None:
    assert len(raw) < 1024 * 1024
    config = json.loads(raw)
    assert isinstance(config, dict)
    assert "error" not in config and "node_invalid" not in config
    assert set(config) <= OSQUERY_CONFIG_KEYS
    schedules = [config.get("schedule", {})] + [pack["queries"] for pack in config.get("packs", {}).values()]
    for queries in schedules:
        for name, query in queries.items():
            assert not name.startswith(RESERVED_NAME_PREFIXES) and not name.endswith(RESERVED_NAME_SUFFIXES), name
            assert isinstance(query["query"], str) and query["query"].strip()
            assert isinstance(query["interval"], int) and 1 <= query["interval"] <= MAX_INTERVAL
    for value in config.get("options", {}).values():
        assert isinstance(value, str | int | float | bool)


@pytest.fixture
def mac_pack(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pack = Pack.objects.create(name="macos", target_platforms="darwin")
        processes = Query.objects.create(name="processes", sql="SELECT * FROM processes;")
        ScheduledQuery.objects.create(pack=pack, query=processes, name="processes", interval=300)
        sip = Query.objects.create(name="sip", sql="SELECT * FROM sip_config;")
        ScheduledQuery.objects.create(pack=pack, query=sip, name="sip", interval=3600, logging="snapshot")
        # Written around the model validator, as a bulk import could: the agent would skip it.
        ScheduledQuery.objects.create(pack=pack, query=sip, name="sip_counter", interval=60)
    return pack


def test_config_is_a_valid_osquery_config(enrolled_mac, mac_pack):
    raw = _config_bytes(enrolled_mac)

    _assert_valid_osquery_config(raw)
    config = json.loads(raw)
    assert "options" in config
    assert config["packs"]["macos"]["queries"] == {
        "processes": {"query": "SELECT * FROM processes;", "interval": 300},
        "sip": {"query": "SELECT * FROM sip_config;", "interval": 3600, "snapshot": True},
    }


def test_linux_host_gets_no_mac_pack(enrolled_linux, mac_pack):
    config = json.loads(_config_bytes(enrolled_linux))

    assert "macos" not in config.get("packs", {})


def test_config_is_byte_stable_and_hash_recorded(enrolled_mac, mac_pack, vectors):
    first = _config_bytes(enrolled_mac)
    second = _config_bytes(enrolled_mac)

    assert first == second
    assert Host.objects.get().config_hash_served == config_hash(first)


def test_config_rerenders_identically_after_an_unrelated_change(
    enrolled_mac, mac_pack, django_capture_on_commit_callbacks
):
    first = _config_bytes(enrolled_mac)
    with django_capture_on_commit_callbacks(execute=True):
        Query.objects.create(name="unused", sql="SELECT 1;")  # bumps the config generation

    assert _config_bytes(enrolled_mac) == first


def test_config_change_is_served(enrolled_mac, mac_pack, django_capture_on_commit_callbacks):
    _config_bytes(enrolled_mac)
    with django_capture_on_commit_callbacks(execute=True):
        ScheduledQuery.objects.filter(name="processes").update(interval=600)
        mac_pack.save()  # update() skips signals; saving the pack invalidates

    config = json.loads(_config_bytes(enrolled_mac))
    assert config["packs"]["macos"]["queries"]["processes"]["interval"] == 600


def test_cached_config_costs_no_sql(enrolled_mac, mac_pack, with_worker, django_assert_num_queries, redis_round_trips):
    with django_assert_num_queries(6):
        # Miss: node-key lookup, agent options, pack targeting, scheduled queries, their
        # queries, recording the served hash.
        first = _config_bytes(enrolled_mac)

    redis_round_trips.count = 0
    with django_assert_num_queries(0):
        second = _config_bytes(enrolled_mac)
    assert second == first
    assert redis_round_trips.count == 1  # node key, last seen and the cached config together


def test_render_miss_is_bounded_by_packs_not_hosts(enrolled_mac, mac_pack, with_worker, django_assert_num_queries):
    _config_bytes(enrolled_mac)
    for n in range(5):
        pack = Pack.objects.create(name=f"extra{n}", target_platforms="darwin")
        ScheduledQuery.objects.create(pack=pack, query=Query.objects.get(name="sip"), name="sip", interval=60)
    Pack.objects.get(name="macos").save()

    from queries.agent_config import config_generation_bump

    config_generation_bump()
    with django_assert_num_queries(5):
        config = json.loads(_config_bytes(enrolled_mac))
    assert len(config["packs"]) == 6


def test_oversized_config_is_an_error_not_an_empty_config(enrolled_mac, mac_pack, settings):
    settings.FLEET = {**settings.FLEET, "CONFIG_MAX_BYTES": 200}

    status, reply = enrolled_mac.post("config", {"node_key": enrolled_mac.node_key})

    # An error keeps the agent on the config it runs; `{}` or an oversized config would wipe it.
    assert reply["error"].startswith("the config for this host is")
    assert status == 500


def test_config_hash_matches_osquery(vectors):
    check = vectors["config"]["config_hash_check"]
    compact = check["response_minimal_compact"].encode()

    assert hashlib.sha1(compact).hexdigest() == check["source_sha1"]  # noqa: S324
    assert config_hash(compact) == check["osquery_info_config_hash"]
    osquery_test = check["osquery_test_vector"]["compact"].encode()
    assert hashlib.sha1(osquery_test).hexdigest() == "1c70dc4608ed9f8d8e24d23359a46e8739a93558"  # noqa: S324
    # The agent re-serializes the reply compactly; what fleetweb sends is already that form.
    assert json.dumps(vectors["config"]["response_minimal"], separators=(",", ":")).encode() == compact
