import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from collector.models import CarveSession, Destination, LogBatch, OutboxEvent
from collector.services.forwarding import destination_deliver, log_batch_forward
from hosts.models import EnrollSecret, Host
from queries.models import CampaignHost
from tests.conftest import AgentClient

from .receivers import Receiver
from .syslog_ng import SyslogNg

# Every agent endpoint with a body the agent would send to it (node key added by the client).
ENDPOINTS = ["enroll", "config", "log", "distributed/read", "distributed/write", "carve/begin", "carve/block"]
NODE_ENDPOINTS = ["config", "log", "distributed/read", "distributed/write", "carve/begin"]


def gz(body: Any) -> bytes:
    return gzip.compress(json.dumps(body).encode())


def without_node_key(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("node_key", "_note")}


@pytest.fixture(autouse=True)
def live_queries_only():
    """These tests drive the endpoints with live queries. A freshly enrolled host is also asked its
    vitals, labels and policies (tested in tests/live), which would add work to every first read.
    (Not through `monkeypatch`: tests here call monkeypatch.undo() mid-test.)"""
    from collector import distributed
    from queries.live import live_work

    saved = distributed._prefetched_providers
    distributed._prefetched_providers = [(spec, p) for spec, p in saved if p is live_work]
    try:
        yield
    finally:
        distributed._prefetched_providers = saved


@pytest.fixture
def with_worker(settings):
    """Production shape: a Celery worker flushes last-seen times, so agent requests themselves do
    no SQL for it (without a worker the request path flushes every few seconds)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def enrolled_linux(db, enroll_secret: EnrollSecret, vectors) -> AgentClient:
    agent = AgentClient(Client())
    reply = agent.enroll(vectors["enroll"]["request_linux_minimal"])
    assert "node_key" in reply, reply
    return agent


def stored_counts() -> dict[str, int]:
    """What agent requests can write; bad input must leave all of it unchanged."""
    return {
        "hosts": Host.objects.count(),
        "log_batches": LogBatch.objects.count(),
        "carves": CarveSession.objects.count(),
        "answered": CampaignHost.objects.exclude(status=CampaignHost.Status.PENDING).count(),
    }


def body_for(endpoint: str, vectors: dict[str, Any], agent: AgentClient, carve_session: str = "") -> dict[str, Any]:
    """A valid body for `endpoint`, from the protocol vectors."""
    if endpoint == "enroll":
        return dict(vectors["enroll"]["request_macos"])
    bodies = {
        "config": {},
        "log": without_node_key(vectors["logger"]["status"]),
        "distributed/read": {},
        "distributed/write": without_node_key(vectors["distributed"]["write_request"]),
        "carve/begin": without_node_key(vectors["carve"]["begin_request"]),
        "carve/block": dict(vectors["carve"]["continue_requests"][0], session_id=carve_session),
    }
    body = bodies[endpoint]
    if endpoint != "carve/block":
        body["node_key"] = agent.node_key
    return body


class RedisRoundTrips:
    """Counts calls to the Redis server made through the shared client (a pipeline is one)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def redis_round_trips(monkeypatch) -> RedisRoundTrips:
    from redis.client import Pipeline, Redis

    counter = RedisRoundTrips()
    command, execute = Redis.execute_command, Pipeline.execute

    def counted_command(self, *args, **kwargs):
        if not isinstance(self, Pipeline):
            counter.count += 1
        return command(self, *args, **kwargs)

    def counted_execute(self, *args, **kwargs):
        counter.count += 1
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_execute)
    return counter


@pytest.fixture
def receivers() -> Iterator[Any]:
    """Start strict loopback receivers on demand: receivers("hec", auth=...)."""
    started: list[Receiver] = []

    def start(mode: str, **kwargs: Any) -> Receiver:
        receiver = Receiver(mode, **kwargs)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def syslog_ng(tmp_path: Path) -> Iterator[SyslogNg]:
    server = SyslogNg(tmp_path)
    yield server
    server.stop()


def make_destination(name: str, kind: str, **fields: Any) -> Destination:
    # Tests send partial batches at once; delivery timing is not under test here.
    fields.setdefault("batch_max_wait_seconds", 0)
    fields.setdefault("timeout_seconds", 5)
    return Destination.objects.create(name=name, kind=kind, **fields)


@pytest.fixture
def manual_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake still parses batches through the real hook, but delivery runs only when the test
    calls it, so fault tests control each attempt."""
    from collector.services import forwarding

    monkeypatch.setattr(forwarding, "_schedule_delivery", [])


def forward_all() -> None:
    for batch_id in LogBatch.objects.filter(processed_at__isnull=True).order_by("id").values_list("id", flat=True):
        log_batch_forward(batch_id=batch_id)


def deliver_all(*, rounds: int = 50) -> None:
    """Deliver until no destination sends anything more: all delivered, or backing off."""
    for _ in range(rounds):
        progressed = False
        for destination_id in Destination.objects.filter(enabled=True).values_list("id", flat=True):
            report = destination_deliver(destination_id=destination_id, flush=True)
            progressed |= report.batches > 0 or report.dead > 0
        if not progressed:
            return


def clear_backoff() -> None:
    """As if the backoff delay had passed."""
    Destination.objects.update(retry_after=None)


def pending(destination: Destination) -> int:
    return OutboxEvent.objects.filter(destination=destination, state=OutboxEvent.State.PENDING).count()
