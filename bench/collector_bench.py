"""Collector benchmark: intake lines/s, SQL statements per intake request, and forwarding
events/s per destination kind, against the real MariaDB, Redis, syslog-ng and the loopback test
receivers. Prints a JSON fragment (and writes it to --out):

  {"collector": {"intake_lines_per_s": ..., "intake_sql_statements_per_request": ...,
                 "forward_events_per_s": {"http": ..., "splunk_hec": ..., ...}, ...}}

Run: DATABASE_URL=mysql://root@127.0.0.1:3306/fleetweb REDIS_URL=redis://127.0.0.1:6379/15 \\
     SECRET_KEY=bench .venv/bin/python bench/collector_bench.py --out var/bench/collector.json
It creates and drops its own database (test_<name>); it only sends to loopback ports 20200-20299.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetweb.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from collector.models import Destination, LogBatch, OutboxEvent  # noqa: E402
from collector.services import forwarding, logs  # noqa: E402
from fleetweb.redis import get_redis  # noqa: E402
from hosts.models import EnrollSecret  # noqa: E402

VECTORS = json.loads((REPO.parent / "shared" / "docs" / "osquery-vectors.json").read_text())


def result_line(i: int) -> dict[str, Any]:
    base = VECTORS["logger"]["result_event_format_first_run"]["data"][0]
    return dict(base, unixTime=1717430400 + i // 50, columns=dict(base["columns"], pid=str(i)))


ENROLL_SECRET = "bench-only-enroll-secret"  # noqa: S105 - a throwaway database's secret


def enroll(client: Client) -> str:
    EnrollSecret.objects.create(name="bench", secret=ENROLL_SECRET)
    request = dict(VECTORS["enroll"]["request_macos"], enroll_secret=ENROLL_SECRET)
    reply = client.post("/api/osquery/enroll", json.dumps(request), content_type="application/json").json()
    return str(reply["node_key"])


class StatementCounter:
    """Counts SQL statements sent to the database (Django resets its own query log per request)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def post_log(client: Client, node_key: str, lines: list[dict[str, Any]]) -> None:
    body = json.dumps({"node_key": node_key, "log_type": "result", "data": lines})
    reply = client.post("/api/osquery/log", body, content_type="application/json").json()
    assert reply == {}, reply


def bench_intake(client: Client, node_key: str, requests: int, lines_per_request: int) -> dict[str, Any]:
    lines = [result_line(i) for i in range(lines_per_request)]
    saved = list(logs._on_stored)
    logs._on_stored.clear()  # intake alone; forwarding is measured below
    try:
        post_log(client, node_key, lines[:1])  # warm caches
        one, many = StatementCounter(), StatementCounter()
        with connection.execute_wrapper(one):
            post_log(client, node_key, lines[:1])
        with connection.execute_wrapper(many):
            post_log(client, node_key, lines)
        started = time.perf_counter()
        for _ in range(requests):
            post_log(client, node_key, lines)
        elapsed = time.perf_counter() - started
    finally:
        logs._on_stored[:] = saved
    return {
        "intake_lines_per_s": round(requests * lines_per_request / elapsed, 1),
        "intake_requests_per_s": round(requests / elapsed, 1),
        "intake_lines_per_request": lines_per_request,
        "intake_sql_statements_per_request": many.count,
        "intake_sql_statements_one_line": one.count,
    }


def bench_forward(kind: str, fields: dict[str, Any]) -> float:
    Destination.objects.all().delete()
    destination = Destination.objects.create(
        name=kind, kind=kind, batch_max_wait_seconds=0, batch_max_events=500, **fields
    )
    LogBatch.objects.update(processed_at=None)
    batch_ids = list(LogBatch.objects.values_list("id", flat=True))
    saved = list(forwarding._schedule_delivery)
    forwarding._schedule_delivery.clear()
    try:
        started = time.perf_counter()
        for batch_id in batch_ids:
            forwarding.log_batch_forward(batch_id=batch_id)
        while True:
            report = forwarding.destination_deliver(destination_id=destination.pk, flush=True)
            if report.batches == 0:
                break
            assert not report.errors, report.errors
        elapsed = time.perf_counter() - started
    finally:
        forwarding._schedule_delivery[:] = saved
    delivered = OutboxEvent.objects.filter(destination=destination, state=OutboxEvent.State.DELIVERED).count()
    assert delivered == OutboxEvent.objects.filter(destination=destination).count()
    return round(delivered / elapsed, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--lines", type=int, default=500)
    args = parser.parse_args()

    from tests.collector.receivers import Receiver
    from tests.collector.syslog_ng import SyslogNg

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    for key in get_redis().scan_iter("fleetweb:*"):
        get_redis().delete(key)
    result: dict[str, Any] = {}
    scratch = Path(tempfile.mkdtemp(prefix="fleetweb-bench-"))
    syslog = SyslogNg(scratch)
    receivers = {mode: Receiver(mode, max_bytes=64 * 1024 * 1024) for mode in ("ndjson", "hec", "bulk")}
    try:
        client = Client(HTTP_HOST="localhost")
        node_key = enroll(client)
        result.update(bench_intake(client, node_key, args.requests, args.lines))
        # Forward a fixed share of what intake stored, so every kind gets the same events.
        keep = list(LogBatch.objects.order_by("id").values_list("id", flat=True)[:10])
        LogBatch.objects.exclude(id__in=keep).delete()
        result["forward_events"] = sum(LogBatch.objects.values_list("line_count", flat=True))
        targets: dict[str, dict[str, Any]] = {
            "http": {"url": receivers["ndjson"].url},
            "http_gzip": {"url": receivers["ndjson"].url, "gzip": True},
            "splunk_hec": {"url": receivers["hec"].url, "secret": "t"},
            "elasticsearch": {"url": receivers["bulk"].url},
            "syslog_tcp": {"syslog_host": "127.0.0.1", "syslog_port": syslog.tcp, "syslog_transport": "tcp"},
            "syslog_tls": {
                "syslog_host": "127.0.0.1",
                "syslog_port": syslog.tls,
                "syslog_transport": "tls",
                "tls_ca_file": syslog.ca_file,
            },
            "file": {"file_path": str(scratch / "events.jsonl")},
        }
        rates = {}
        for label, fields in targets.items():
            kind = "syslog" if label.startswith("syslog") else label.replace("_gzip", "")
            rates[label] = bench_forward(kind, fields)
        result["forward_events_per_s"] = rates
    finally:
        syslog.stop()
        for receiver in receivers.values():
            receiver.close()
        connection.creation.destroy_test_db(connection.settings_dict["NAME"].removeprefix("test_"), verbosity=0)
    fragment = json.dumps({"collector": result}, indent=2)
    sys.stdout.write(fragment + "\n")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(fragment + "\n")


if __name__ == "__main__":
    main()
