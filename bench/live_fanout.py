"""Live-query fan-out benchmark: N simulated hosts answer one campaign through the real agent
endpoints; a subscriber waits on the campaign's result feed the way the SSE/long-poll views do.

Reported (JSON fragment on stdout, or --out FILE):
- last_checkin_to_visible_ms: from the start of the last host's distributed/write to its result
  being in the subscriber's hands (the figure the analyst feels);
- fanout_seconds: first distributed/read to last result visible;
- read/write latency percentiles per request, and the hosts/second the server absorbed.

Requests go through Django's full request stack in-process (middleware, views, MariaDB, Redis),
without TLS or a network hop. Needs DATABASE_URL (MariaDB; a throwaway `test_` database is created
and dropped) and REDIS_URL (use a Redis DB of your own: the benchmark's keys are deleted after).
Usage: python bench/live_fanout.py [--hosts 5000] [--out live_fanout.json]
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetweb.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

SQL = "SELECT name, version, build_platform FROM osquery_info;"


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000, 2)


def _setup_hosts(count: int) -> list[tuple[int, str]]:
    from fleetweb.redis import get_redis
    from hosts.inventory.due import due_set
    from hosts.models import Host, hash_token
    from hosts.node_cache import NodeHost, node_host_store

    hosts = []
    keys = []
    for i in range(count):
        host = Host(
            host_identifier=f"bench-{i:05d}", hostname=f"bench-{i:05d}", uuid=f"bench-uuid-{i:05d}", platform="linux"
        )
        keys.append(host.set_new_node_key())
        hosts.append(host)
    Host.objects.bulk_create(hosts, batch_size=1000)
    created = list(Host.objects.order_by("id"))
    far = time.time() + 3600
    get_redis().hset("lastseen", mapping={str(h.pk): int(time.time()) for h in created})
    for host, key in zip(created, keys, strict=True):
        node_host_store(hash_token(key), NodeHost.from_host(host))
        for category in ("details", "labels", "policies"):
            due_set(host.pk, category, far)  # steady state: only the live query is due
    return [(h.pk, k) for h, k in zip(created, keys, strict=True)]


def _cleanup_redis(host_ids: list[int], campaign_id: int) -> None:
    from fleetweb.redis import get_redis

    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    for host_id in host_ids:
        for prefix in ("dq", "dqs", "due", "cfg:h"):
            pipe.delete(f"{prefix}:{host_id}")
        pipe.hdel("lastseen", str(host_id))
    for suffix in ("res", "left", "status"):
        pipe.delete(f"lq:{campaign_id}:{suffix}")
    pipe.execute()
    for key in redis.scan_iter("nk:*", count=1000):
        value = redis.get(key)
        if value and orjson.loads(value).get("host_identifier", "").startswith("bench-"):
            redis.delete(key)


def run(count: int) -> dict:
    from queries.live import campaign_launch, campaign_wait
    from queries.models import Campaign

    hosts = _setup_hosts(count)
    campaign = campaign_launch(sql=SQL, targets={"all": True}, ttl=3600)
    visible_at: dict[int, float] = {}
    done = threading.Event()

    def subscriber() -> None:
        offset = 0
        try:
            while offset < count:
                results, state = campaign_wait(campaign, offset, 5.0)
                now = time.perf_counter()
                for result in results:
                    visible_at[result["host_id"]] = now
                offset += len(results)
                if state != Campaign.Status.RUNNING and not results:
                    break
        finally:
            connection.close()
            done.set()

    watcher = threading.Thread(target=subscriber)
    watcher.start()
    client = Client()
    reads: list[float] = []
    writes: list[float] = []
    write_started: dict[int, float] = {}
    query_id = f"fleetweb_live_{campaign.pk}"
    started = time.perf_counter()
    for host_id, key in hosts:
        t0 = time.perf_counter()
        work = orjson.loads(client.post("/api/osquery/distributed/read", {"node_key": key}, "application/json").content)
        reads.append(time.perf_counter() - t0)
        assert query_id in work["queries"], work
        body = {
            "node_key": key,
            "queries": {query_id: [{"name": "osquery", "version": "5.23.1", "build_platform": "linux"}]},
            "statuses": {query_id: 0},
            "messages": {query_id: ""},
            "stats": {query_id: {"wall_time_ms": 1, "user_time": 0, "system_time": 1, "memory": 0}},
        }
        t1 = time.perf_counter()
        write_started[host_id] = t1
        reply = client.post("/api/osquery/distributed/write", body, "application/json")
        writes.append(time.perf_counter() - t1)
        assert reply.json() == {}, reply.content
    watcher.join(timeout=120)
    last_host = hosts[-1][0]
    if last_host not in visible_at:
        raise SystemExit(
            f"only {len(visible_at)} of {count} results became visible; is another process using this Redis DB?"
        )
    finished = max(visible_at.values())
    campaign.refresh_from_db()
    _cleanup_redis([h for h, _ in hosts], campaign.pk)
    return {
        "live_fanout": {
            "hosts": count,
            "results_visible": len(visible_at),
            "campaign_status": campaign.status,
            "last_checkin_to_visible_ms": round((visible_at[last_host] - write_started[last_host]) * 1000, 2),
            "fanout_seconds": round(finished - started, 2),
            "hosts_per_second": round(count / (finished - started), 1),
            "read_ms_p50": _percentile(reads, 50),
            "read_ms_p95": _percentile(reads, 95),
            "write_ms_p50": _percentile(writes, 50),
            "write_ms_p95": _percentile(writes, 95),
            "transport": "in-process WSGI (no TLS/network)",
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--out", help="write the JSON fragment here instead of stdout")
    args = parser.parse_args()
    if not settings.REDIS_URL:
        sys.exit("REDIS_URL must point at a Redis database of your own")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Celery's inline last-seen flush would put DB writes on the measured path; beat does it in production.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Its own throwaway database, apart from the test suite's `test_<name>`.
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = f"bench_{settings.DATABASES['default']['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = run(args.hosts)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
