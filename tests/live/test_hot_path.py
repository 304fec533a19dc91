"""The agents' distributed/read costs no SQL in steady state; distributed/write a bounded amount."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queries.live import campaign_launch
from queries.models import Campaign, Label, Policy
from tests.agent_sim import sim_fleet


@pytest.fixture
def steady(settings, client, enroll_secret, django_capture_on_commit_callbacks):
    # Last-seen flushing is Celery's job in production; keep its inline fallback out of the count.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    Label.objects.create(name="has jq", sql="SELECT 1 FROM homebrew_packages WHERE name = 'jq';")
    Policy.objects.create(name="firewall on", sql="SELECT 1 FROM alf WHERE global_state >= 1;", platform="darwin")
    (agent,) = sim_fleet(client, 1)
    with django_capture_on_commit_callbacks(execute=True):
        agent.checkin()  # node cache fill, vitals, labels, policies
    return agent


@pytest.mark.django_db
def test_steady_state_read_does_no_sql(steady, django_assert_num_queries, monkeypatch):
    from redis.client import Pipeline, Redis

    calls = []
    command, execute = Redis.execute_command, Pipeline.execute

    def counted_command(self, *args, **kwargs):
        if not isinstance(self, Pipeline):
            calls.append(args[0])
        return command(self, *args, **kwargs)

    def counted_execute(self, *args, **kwargs):
        calls.append("pipeline")
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_execute)
    for _ in range(3):
        calls.clear()
        with django_assert_num_queries(0):
            reply = steady.api.call("distributed/read")
        assert reply == {"queries": {}}
        # Live queries, vitals, labels and policies all answered from the check-in's one round trip.
        assert len(calls) == 1, calls


@pytest.mark.django_db
def test_pending_live_query_read_does_no_sql(steady, django_assert_num_queries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaign_launch(sql="SELECT 1;", targets={"all": True})
    with django_assert_num_queries(0):
        reply = steady.api.call("distributed/read")
    assert list(reply["queries"]) == [f"fleetweb_live_{_campaign_id()}"]


def _campaign_id() -> int:
    return Campaign.objects.get().pk


@pytest.mark.django_db
def test_write_is_bounded(steady, django_capture_on_commit_callbacks):
    """A write carrying a live result, every detail query, labels and policies: the query count
    depends on the number of tables, not on rows or hosts."""
    from hosts.inventory.services import host_refetch
    from hosts.models import Host

    many_apps = [
        {"name": f"App {i}.app", "bundle_short_version": "1.0", "bundle_identifier": f"com.example.app{i}", "path": "/"}
        for i in range(800)
    ]
    steady.table("apps", many_apps)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_launch(sql="SELECT * FROM apps;", targets={"all": True})
    host_refetch(host=Host.objects.get())
    work = steady.api.call("distributed/read")
    assert {"fleetweb_label_", "fleetweb_policy_", "fleetweb_live_"} <= {
        q.rsplit("_", 1)[0] + "_" for q in work["queries"]
    }
    assert len(work["queries"]) >= 18
    with CaptureQueriesContext(connection) as ctx:
        _write_answers(steady, work)
    assert len(ctx.captured_queries) <= 25, "\n".join(q["sql"][:70] for q in ctx.captured_queries)


def _write_answers(agent, work) -> None:
    body = {"queries": {}, "statuses": {}, "messages": {}}
    for query_id, sql in work["queries"].items():
        rows, error = agent.run_sql(sql)
        body["queries"][query_id] = rows
        body["statuses"][query_id] = 1 if error else 0
        body["messages"][query_id] = error or ""
    assert agent.api.call("distributed/write", body) == {}


@pytest.mark.django_db
def test_live_result_write_costs_two_statements(steady, django_capture_on_commit_callbacks, django_assert_num_queries):
    with django_capture_on_commit_callbacks(execute=True):
        campaign_launch(sql="SELECT 1 AS one;", targets={"all": True})
    query_id = f"fleetweb_live_{_campaign_id()}"
    # One UPDATE for the host's answer; then, once committed, one UPDATE completing the campaign
    # (it was the last host).
    with django_assert_num_queries(2), django_capture_on_commit_callbacks(execute=True):
        steady.api.call(
            "distributed/write", {"queries": {query_id: [{"one": "1"}]}, "statuses": {query_id: 0}, "messages": {}}
        )
    assert Campaign.objects.get().status == "completed"
