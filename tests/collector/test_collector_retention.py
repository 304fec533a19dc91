"""Retention prunes delivered events, old batches and reports in bounded chunks, and never
touches what is still owed to a SIEM."""

from datetime import timedelta

import pytest
from django.utils import timezone

from collector.models import LogBatch, OutboxEvent, QueryReportRow, ThrottleBucket
from collector.services.retention import collector_prune_chunk
from collector.tasks import collector_prune_task

from .conftest import deliver_all, forward_all, make_destination
from .test_throttle import result_line

pytestmark = pytest.mark.usefixtures("manual_delivery")


@pytest.mark.django_db(transaction=True)
def test_prune_deletes_expired_rows_in_chunks_and_keeps_pending(enrolled_mac, receivers, settings):
    settings.FLEET = dict(settings.FLEET, RETENTION_CHUNK=4)
    siem = receivers("ndjson")
    down = receivers("ndjson")
    down.down = True
    make_destination("siem", "http", url=siem.url, throttle_limit=1000)
    make_destination("down", "http", url=down.url)
    lines = [result_line("pack/Global/processes", 1717430400 + i, i) for i in range(10)]
    for _ in range(3):
        assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()
    deliver_all()
    long_ago = timezone.now() - timedelta(days=60)
    OutboxEvent.objects.update(delivered_at=long_ago, created_at=long_ago)
    LogBatch.objects.update(received_at=long_ago)
    QueryReportRow.objects.update(stored_at=long_ago)
    # A batch received long ago but never parsed is still owed to the SIEM.
    LogBatch.objects.create(host_identifier="h", log_type="result", line_count=1, payload=b"x", received_at=long_ago)

    first = collector_prune_chunk()
    assert first["delivered"] == 4 and first["batches"] == 3 and first["report_rows"] == 4
    assert first["throttle_buckets"] == 1  # the 2024 bucket is past the two-day horizon
    collector_prune_task()  # eager: one chunk per call
    for _ in range(10):
        collector_prune_chunk()

    assert not OutboxEvent.objects.filter(state=OutboxEvent.State.DELIVERED).exists()
    assert OutboxEvent.objects.filter(state=OutboxEvent.State.PENDING).count() == 30  # "down" still owes them
    assert list(LogBatch.objects.values_list("processed_at", flat=True)) == [None]
    assert not QueryReportRow.objects.exists() and not ThrottleBucket.objects.exists()
