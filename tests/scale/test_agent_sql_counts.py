"""SQL statements per agent request: the hot path's budget (no timings here; `make bench` times).

distributed/read and config do no SQL once caches are warm; log intake costs the same few
statements whatever the batch size; a live-query answer costs a constant handful.
"""

import gzip
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collector.models import LogBatch
from hosts.models import Host
from queries.agent_config import config_generation_bump
from queries.live import campaign_launch, campaign_query_id
from queries.models import Pack


def _lines(vectors, n: int) -> list[dict]:
    line = vectors["logger"]["result_event_format_first_run"]["data"][0]
    return [dict(line, counter=i) for i in range(n)]


@pytest.fixture
def dispatched(monkeypatch) -> list[int]:
    """Batches handed to forwarding. Tests run Celery tasks inline; in production forwarding runs
    in a worker after the reply, so its SQL is not the request's and is recorded here instead."""
    from collector.services import logs

    seen: list[int] = []
    monkeypatch.setattr(logs, "_on_stored", [seen.append])
    return seen


def _data_statements(statements: list[str]) -> list[str]:
    """Statements that touch data (transaction control left out)."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [s for s in statements if not s.startswith(control)]


def _count(agent, endpoint: str, body: dict | None = None) -> tuple[int, dict, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        reply = agent.call(endpoint, body)
    assert "error" not in reply, reply
    return len(ctx.captured_queries), reply, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_distributed_read_steady_state_is_sql_free(enrolled_mac, django_assert_num_queries):
    enrolled_mac.call("distributed/read")
    for _ in range(3):
        with django_assert_num_queries(0):
            reply = enrolled_mac.call("distributed/read")
        assert reply["queries"] == {} or isinstance(reply["queries"], dict)


@pytest.mark.django_db(transaction=True)
def test_distributed_read_with_pending_live_query_is_sql_free(enrolled_mac, django_assert_num_queries):
    enrolled_mac.call("distributed/read")
    campaign = campaign_launch(sql="SELECT 1;", host_ids=[Host.objects.get().id])
    with django_assert_num_queries(0):
        reply = enrolled_mac.call("distributed/read")
    assert campaign_query_id(campaign.pk) in reply["queries"]


@pytest.mark.django_db(transaction=True)
def test_config_served_from_cache_until_something_changes(enrolled_mac, django_assert_num_queries):
    first, config, _ = _count(enrolled_mac, "config")
    assert first > 0  # rendered from the database once
    with django_assert_num_queries(0):
        assert enrolled_mac.call("config") == config
    config_generation_bump()  # what any change to packs, labels or options does
    again, _, _ = _count(enrolled_mac, "config")
    assert again > 0
    with django_assert_num_queries(0):
        enrolled_mac.call("config")


@pytest.mark.django_db(transaction=True)
def test_log_intake_sql_is_constant_per_batch(enrolled_mac, vectors, dispatched):
    enrolled_mac.call("distributed/read")  # warm the node cache
    counts = {}
    for n in (1, 10, 500):
        counts[n], reply, statements = _count(enrolled_mac, "log", {"log_type": "result", "data": _lines(vectors, n)})
        assert reply == {}
        # One INSERT of the whole batch, committed before the reply; nothing read.
        data = _data_statements(statements)
        assert len(data) == 1 and data[0].startswith("INSERT INTO `collector_logbatch`"), statements
        assert statements[-1] == "COMMIT" or len(statements) == 1, statements
    assert counts[1] == counts[10] == counts[500], counts
    # Each stored batch went to forwarding once, after its commit.
    assert dispatched == list(LogBatch.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_gzip_log_costs_the_same_sql(enrolled_mac, vectors, dispatched):
    enrolled_mac.call("distributed/read")
    body = json.dumps({"node_key": enrolled_mac.node_key, "log_type": "status", "data": _lines(vectors, 50)})
    with CaptureQueriesContext(connection) as ctx:
        _, reply = enrolled_mac.post("log", raw=gzip.compress(body.encode()), headers={"Content-Encoding": "gzip"})
    assert reply == {}
    assert len(_data_statements([q["sql"] for q in ctx.captured_queries])) == 1


@pytest.mark.django_db(transaction=True)
def test_live_query_answer_sql_is_constant(enrolled_mac):
    enrolled_mac.call("distributed/read")
    host_id = Host.objects.get().id
    counts = []
    for rows in (1, 200):
        campaign = campaign_launch(sql="SELECT * FROM processes;", host_ids=[host_id])
        query_id = campaign_query_id(campaign.pk)
        body = {"queries": {query_id: [{"pid": str(i)} for i in range(rows)]}, "statuses": {query_id: 0}}
        n, reply, statements = _count(enrolled_mac, "distributed/write", body)
        assert reply == {}
        counts.append(len(_data_statements(statements)))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 2, counts


@pytest.mark.django_db(transaction=True)
def test_label_change_on_one_host_leaves_the_fleets_configs_cached(
    client, enrolled_mac, vectors, django_assert_num_queries
):
    from queries.models import Label
    from tests.conftest import AgentClient

    other = AgentClient(client)
    assert "node_key" in other.enroll(vectors["enroll"]["request_linux_minimal"])
    label = Label.objects.create(name="Apple silicon", sql="SELECT 1 FROM system_info WHERE cpu_type = 'arm64e';")
    pack = Pack.objects.create(name="arm-only")
    pack.target_labels.add(label)
    for agent in (enrolled_mac, other):
        agent.call("config")
        with django_assert_num_queries(0):
            agent.call("config")
    mac_id = Host.objects.get(platform="darwin").id
    # The mac answers the label query with a row: it becomes a member, through the write handler.
    query_id = f"fleetweb_label_{label.id}"
    reply = enrolled_mac.call("distributed/write", {"queries": {query_id: [{"1": "1"}]}, "statuses": {query_id: 0}})
    assert reply == {}
    assert list(label.hosts.values_list("id", flat=True)) == [mac_id]
    with django_assert_num_queries(0):
        other.call("config")  # still cached: its packs cannot have changed
    changed, config, _ = _count(enrolled_mac, "config")
    assert changed > 0 and "arm-only" in config.get("packs", {})
    # Leaving the label through the ORM (an operator edit) also drops only that host's cache.
    label.hosts.through.objects.filter(host_id=mac_id).delete()
    with django_assert_num_queries(0):
        other.call("config")
    _, config, _ = _count(enrolled_mac, "config")
    assert "arm-only" not in config.get("packs", {})
