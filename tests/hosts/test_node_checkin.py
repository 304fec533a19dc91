"""hosts.checkin: node key -> host, last seen and per-host state in one Redis call."""

import pytest

from fleetweb.redis import get_redis
from hosts import checkin, presence
from hosts.models import Host, hash_token
from hosts.node_cache import NodeHost, cache_key, node_host_forget, node_host_load

PREFETCH = [("hash", "test:h:{host_id}"), ("get", "test:g:{host_id}"), ("get", "test:global")]


@pytest.fixture(params=["script", "pipeline"])
def mode(request, monkeypatch):
    """Both paths: the Lua script (real Redis) and the pipeline (the embedded stand-in)."""
    if request.param == "pipeline":
        monkeypatch.setattr(checkin, "_use_script", lambda: False)
    return request.param


@pytest.fixture
def host(db) -> tuple[Host, str]:
    host = Host(host_identifier="mac-1", hostname="mac-1", uuid="U-1", platform="darwin")
    key = host.set_new_node_key()
    host.save()
    return host, key


def test_checkin_resolves_records_and_prefetches(host, mode):
    host, key = host
    redis = get_redis()
    redis.hset(f"test:h:{host.id}", mapping={"a": "1", "b": "2"})
    redis.set("test:global", "7")

    first = checkin.node_checkin(key, PREFETCH, now=1_700_000_000)  # cache miss: database
    second = checkin.node_checkin(key, PREFETCH, now=1_700_000_060)  # cached

    for result in (first, second):
        assert result is not None
        assert result.node == NodeHost.from_host(host)
        assert result.prefetched == [{b"a": b"1", b"b": b"2"}, None, b"7"]
    assert redis.hget(presence.HASH, str(host.id)) == b"1700000060"


def test_unknown_key_records_nothing(db, mode):
    assert checkin.node_checkin("nk_unknown", PREFETCH) is None
    assert checkin.node_checkin("", PREFETCH) is None
    assert not get_redis().exists(presence.HASH)


def test_revoked_key_cannot_be_revived_by_a_late_cache_fill(host, mode):
    host, key = host
    digest = hash_token(key)
    # A request read the host row just before the key was revoked; the revocation lands first,
    # then that request tries to cache what it read.
    node_host_forget(digest)
    node_host_load(digest)

    assert get_redis().get(cache_key(digest)) == b"-"
    assert checkin.node_checkin(key) is None


def test_revoking_a_cached_key(host, mode):
    host, key = host
    assert checkin.node_checkin(key) is not None

    node_host_forget(hash_token(key))

    assert checkin.node_checkin(key) is None


def test_prefetch_fetch_outside_a_checkin(host):
    host, _ = host
    get_redis().set(f"test:g:{host.id}", "x")

    assert checkin.prefetch_fetch(host.id, PREFETCH) == [{}, b"x", None]
    assert checkin.prefetch_fetch(host.id, []) == []
