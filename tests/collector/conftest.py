from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.models import Destination, LogBatch, OutboxEvent
from collector.services.forwarding import destination_deliver, log_batch_forward

from .receivers import Receiver
from .syslog_ng import SyslogNg


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
