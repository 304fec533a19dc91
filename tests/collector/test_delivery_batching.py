"""Batching by event count, bytes and wait time."""

from datetime import timedelta

import pytest

from collector.models import OutboxEvent
from collector.services.forwarding import destination_deliver

from .conftest import forward_all, make_destination
from .test_throttle import result_line

pytestmark = pytest.mark.usefixtures("manual_delivery")


def feed(agent, count: int, start: int = 0) -> None:
    lines = [result_line("pack/Global/processes", 1717430400 + i, i) for i in range(start, start + count)]
    assert agent.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()


@pytest.mark.django_db(transaction=True)
def test_partial_batch_waits_until_full_or_old_enough(enrolled_mac, receivers):
    siem = receivers("ndjson")
    destination = make_destination("siem", "http", url=siem.url, batch_max_events=10, batch_max_wait_seconds=60)
    feed(enrolled_mac, 4)
    report = destination_deliver(destination_id=destination.pk)
    assert report.batches == 0 and 0 < report.next_run_in <= 60 and siem.requests == 0

    feed(enrolled_mac, 13, start=4)  # 17 queued: one full batch goes, 7 wait
    report = destination_deliver(destination_id=destination.pk)
    assert report.batches == 1 and report.delivered == 10 and siem.requests == 1

    # Once the oldest waiting event is older than the wait time, the partial batch goes.
    OutboxEvent.objects.filter(state=OutboxEvent.State.PENDING).update(
        created_at=OutboxEvent.objects.first().created_at - timedelta(seconds=61)
    )
    report = destination_deliver(destination_id=destination.pk)
    assert report.delivered == 7 and siem.requests == 2
    assert [e["columns"]["pid"] for e in siem.events] == [str(i) for i in range(17)]


@pytest.mark.django_db(transaction=True)
def test_batches_are_cut_by_bytes(enrolled_mac, receivers):
    siem = receivers("ndjson")
    feed_size = 12
    destination = make_destination("siem", "http", url=siem.url, batch_max_events=1000, batch_max_bytes=2000)
    feed(enrolled_mac, feed_size)
    sizes = list(OutboxEvent.objects.values_list("size", flat=True))
    assert max(sizes) < 2000 < sum(sizes)
    destination_deliver(destination_id=destination.pk, flush=True)
    assert len(siem.events) == feed_size
    assert siem.requests > 1
    for headers in siem.headers_seen:
        assert int(headers["Content-Length"]) <= 2000 + feed_size  # newlines between events
