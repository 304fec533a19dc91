"""A real Celery worker is SIGKILLed in the middle of delivering a batch: after a new worker
starts, every event arrives; the only duplicates are events of the batch that was in flight."""

from collections import Counter

import pytest
from django.db import connection

from collector.models import LogBatch, OutboxEvent
from collector.tasks import collector_sweep_task
from fleetweb.celery import app

from .conftest import make_destination
from .logdata import all_batches
from .processes import VENV_BIN, fleetweb_env, kill_group, start, wait_until
from .test_log_parse import EXPECTED_EVENTS

TOTAL = sum(EXPECTED_EVENTS.values())


@pytest.fixture
def broker():
    """Send tasks through Redis to real workers instead of running them inline."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def worker(tmp_path, name: str):
    database = connection.settings_dict
    url = f"mysql://{database['USER']}@{database['HOST']}:{database['PORT'] or 3306}/{database['NAME']}"
    env = fleetweb_env(url, FLEET_DELIVERY_LOCK_SECONDS="2", FLEET_FORWARD_STALE_SECONDS="0")
    args = [
        str(VENV_BIN / "celery"),
        "-A",
        "fleetweb",
        "worker",
        "-c",
        "1",
        "-n",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        "-l",
        "info",
    ]
    return start(args, env, tmp_path / f"{name}.log")


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_loses_nothing(enrolled_mac, receivers, broker, tmp_path):
    siem = receivers("ndjson")
    destination = make_destination("siem", "http", url=siem.url, batch_max_events=10, timeout_seconds=30)
    siem.stall.clear()  # hold the first delivery inside the receiver
    first = worker(tmp_path, "first")
    try:
        for label, log_type, lines in all_batches():
            assert enrolled_mac.call("log", {"log_type": log_type, "data": lines}) == {}, label
        wait_until(lambda: siem.requests >= 1, 120, "the worker to start sending a batch")
        kill_group(first)
    finally:
        kill_group(first)
    in_flight_requests = siem.requests
    siem.stall.set()  # the receiver now finishes the request whose sender died
    assert in_flight_requests == 1

    second = worker(tmp_path, "second")
    try:
        # Beat's sweep re-queues what the dead worker held; run it as beat would, every 5 s at most.
        wait_until(
            lambda: (
                not OutboxEvent.objects.filter(state=OutboxEvent.State.PENDING).exists()
                and not LogBatch.objects.filter(processed_at__isnull=True).exists()
                and OutboxEvent.objects.filter(destination=destination).count() == TOTAL
            ),
            180,
            "every event delivered after the restart",
            step=lambda: collector_sweep_task.delay(),
        )
    finally:
        kill_group(second)

    ids = siem.event_ids()
    expected = set(OutboxEvent.objects.filter(destination=destination).values_list("event_id", flat=True))
    assert len(expected) == TOTAL
    assert set(ids) == expected
    duplicates = Counter({i: n for i, n in Counter(ids).items() if n > 1})
    # The batch that was in the air when the worker died may arrive twice (same event ids); nothing else.
    first_batch = list(
        OutboxEvent.objects.filter(destination=destination).order_by("id").values_list("event_id", flat=True)[:10]
    )
    assert set(duplicates) <= set(first_batch)
    assert all(n == 2 for n in duplicates.values())
