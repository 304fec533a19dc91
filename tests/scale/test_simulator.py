"""The agent simulator against a real server thread: enrollment for each platform template,
config, scheduled-query logs (gzip + NodeKey header), live queries and re-enrollment."""

import asyncio
import gzip
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from django.db.models import Sum

from collector.models import LogBatch
from fleetweb_sim.agent import SimConfig
from fleetweb_sim.runner import hammer, simulate
from fleetweb_sim.stats import RunStats, percentile
from fleetweb_sim.templates import PLATFORMS, calendar_time, host_identity, rows_for
from hosts.models import Host
from hosts.services import host_delete
from queries.agent_config import config_generation_bump
from queries.live import campaign_launch
from queries.models import CampaignHost, Pack, Query, ScheduledQuery


def _config(url: str, secret: str) -> SimConfig:
    return SimConfig(
        base_url=url,
        enroll_secret=secret,
        distributed_interval=1.0,
        config_refresh=2.0,
        logger_tls_period=1.0,
        rows_per_query=2,
        status_lines_per_period=1.0,
        ramp_seconds=0.3,
    )


def _summary(raw: dict) -> dict:
    stats = RunStats()
    stats.merge_raw(raw)
    return stats.summary()


@pytest.fixture
def every_second_pack(db):
    pack = Pack.objects.create(name="sim", target_platforms="darwin,linux,windows")
    query = Query.objects.create(name="procs", sql="SELECT pid, name FROM processes;")
    ScheduledQuery.objects.create(pack=pack, query=query, name="procs", interval=1)
    config_generation_bump()
    return pack


@pytest.mark.django_db(transaction=True)
def test_simulated_fleet_end_to_end(live_server, enroll_secret, every_second_pack):
    cfg = _config(live_server.url, enroll_secret.secret)
    raw = asyncio.run(
        simulate(cfg, range(6), run_id="t", duration=3.5, drain_seconds=5, mix=PLATFORMS, warmup_seconds=0)
    )
    summary = _summary(raw)
    assert summary["all"]["errors"] == 0, summary["endpoints"]
    counters = summary["counters"]
    assert counters["enrolls"] == 6
    assert sorted(Host.objects.values_list("platform", flat=True)) == sorted(["darwin", "linux", "windows"] * 2)
    for endpoint in ("config", "distributed_read", "log_result", "log_status"):
        assert summary["endpoints"][endpoint]["requests"] > 0, endpoint
    # Every line the server acknowledged is stored; nothing is left on the agents.
    assert counters["result_lines_pending"] == counters["status_lines_pending"] == 0
    stored = {t: LogBatch.objects.filter(log_type=t).aggregate(n=Sum("line_count"))["n"] for t in ("result", "status")}
    assert stored == {"result": counters["result_lines_acked"], "status": counters["status_lines_acked"]}
    assert counters["result_lines_acked"] == counters["result_lines_generated"] > 0
    names = {line["name"] for batch in LogBatch.objects.filter(log_type="result") for line in _lines(batch)}
    assert names == {"pack/sim/procs"}  # the server's pack_delimiter is honoured

    # Second run, same agents (node keys kept): a live query for everyone, one host deleted.
    keys = raw["node_keys"]
    campaign = campaign_launch(
        sql="SELECT name, version FROM os_version;", host_ids=Host.objects.values_list("id", flat=True)
    )
    gone = Host.objects.get(hostname=host_identity(0, "darwin", "t").hostname)
    host_delete(host=gone)
    raw = asyncio.run(
        simulate(
            cfg, range(6), run_id="t", duration=3, drain_seconds=5, mix=PLATFORMS, node_keys=keys, warmup_seconds=0
        )
    )
    summary = _summary(raw)
    assert summary["counters"]["reenrolls"] == 1
    assert "enrolls" not in summary["counters"]
    invalid = [s for e in summary["endpoints"].values() for s in e["error_samples"]]
    assert invalid and all("node_invalid" in s for s in invalid), invalid
    answered = CampaignHost.objects.filter(campaign=campaign, status=CampaignHost.Status.SUCCEEDED)
    assert answered.count() == 5  # the deleted host left the campaign with its row
    assert all(ch.rows and ch.rows[0]["name"] for ch in answered)


def _batches_committed() -> int:
    from django.db import connection

    try:
        return LogBatch.objects.count()
    finally:
        connection.close()


def _lines(batch: LogBatch) -> list[dict]:
    from collector.services.logs import log_batch_lines

    return log_batch_lines(batch)


@pytest.mark.django_db(transaction=True)
def test_hammer_prices_one_endpoint(live_server, enroll_secret):
    marks = []
    raw = asyncio.run(
        hammer(
            _config(live_server.url, enroll_secret.secret),
            endpoint="log",
            hosts=3,
            requests=12,
            concurrency=2,
            run_id="h",
            lines=5,
            # on_ready runs inside the event loop; the ORM must be called from another thread.
            on_ready=lambda: marks.append(ThreadPoolExecutor(1).submit(_batches_committed).result()),
        )
    )
    summary = _summary(raw)
    assert summary["endpoints"]["log"]["requests"] == 12 and summary["all"]["errors"] == 0
    # 3 warm-up posts before on_ready, then the 12 measured ones.
    assert marks == [3]
    assert LogBatch.objects.count() == 15
    assert LogBatch.objects.aggregate(n=Sum("line_count"))["n"] == 75


def test_templates_and_stats():
    mac = host_identity(7, "darwin", "x")
    # Stable per index and run id, so a second run re-enrolls the same machines.
    assert mac.uuid == host_identity(7, "darwin", "x").uuid != host_identity(8, "darwin", "x").uuid
    assert rows_for("SELECT * FROM os_version", mac, 5) and len(rows_for("SELECT * FROM os_version", mac, 5)) == 1
    assert len(rows_for("SELECT pid FROM processes", mac, 4)) == 4
    assert all(isinstance(v, str) for r in rows_for("SELECT * FROM users", mac, 3) for v in r.values())
    assert calendar_time(1717430412) == "Mon Jun  3 16:00:12 2024 UTC"
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile(list(range(1, 101)), 99) == 99
    assert orjson.loads(gzip.decompress(gzip.compress(b"{}"))) == {}
    # Requests before the warm-up ends are reported apart from steady state.
    stats = RunStats(steady_after=time.time() + 60)
    stats.endpoint("enroll").record(900.0, None)
    stats.steady_after = time.time() - 1
    stats.endpoint("enroll").record(3.0, None)
    summary = stats.summary()
    assert summary["startup"]["enroll"]["p99_ms"] == 900.0
    assert summary["endpoints"]["enroll"]["p99_ms"] == summary["all"]["p99_ms"] == 3.0
