"""The throttle drops excess events per interval (and key), counts every drop, and uses the
events' own time so a backlog flushed after an outage is not taken for a burst."""

import pytest

from collector.models import OutboxEvent, ThrottleDrop
from collector.selectors import collector_metrics_text, collector_status

from .conftest import deliver_all, forward_all, make_destination

pytestmark = pytest.mark.usefixtures("manual_delivery")


def result_line(name: str, unix_time: int, pid: int) -> dict:
    return {
        "name": name,
        "hostIdentifier": "Janes-MacBook-Pro.local",
        "calendarTime": "Mon Jun  3 16:00:12 2024 UTC",
        "unixTime": str(unix_time),
        "epoch": 0,
        "counter": "1",
        "decorations": {"host_uuid": "4C2A9E1B-7D3F-5A8E-9B61-2F0C3D4E5A6B"},
        "columns": {"pid": str(pid)},
        "action": "added",
    }


@pytest.mark.django_db(transaction=True)
def test_excess_events_are_dropped_and_counted_per_destination_and_key(enrolled_mac, receivers):
    limited = receivers("ndjson")
    unlimited = receivers("ndjson")
    make_destination(
        "limited", "http", url=limited.url, throttle_limit=3, throttle_interval_seconds=60, throttle_key="query"
    )
    make_destination("unlimited", "http", url=unlimited.url)
    # 10 events of one query and 2 of another, all within one minute.
    lines = [result_line("pack/Global/processes", 1717430400 + i, i) for i in range(10)]
    lines += [result_line("pack/Global/users", 1717430400 + i, i) for i in range(2)]
    sent = len(lines)
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()
    deliver_all()

    assert len(unlimited.events) == sent
    drops = {d.key: d.count for d in ThrottleDrop.objects.all()}
    assert drops == {"pack/Global/processes": 7}
    assert len(limited.events) + sum(drops.values()) == sent
    assert [e["columns"]["pid"] for e in limited.events if e["query"] == "processes"] == ["0", "1", "2"]

    # The same minute again: everything of that query is over the limit now.
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines[:4]}) == {}
    forward_all()
    deliver_all()
    assert ThrottleDrop.objects.get(key="pack/Global/processes").count == 11

    status = {s.destination.name: s for s in collector_status()["destinations"]}
    assert status["limited"].throttle_dropped == 11 and status["unlimited"].throttle_dropped == 0
    assert status["limited"].top_drops == [("pack/Global/processes", 11)]
    metrics = collector_metrics_text()
    assert 'fleetweb_collector_throttle_dropped{destination="limited",key="pack/Global/processes"} 11' in metrics


@pytest.mark.django_db(transaction=True)
def test_backlog_after_an_outage_is_throttled_on_event_time_not_arrival(enrolled_mac, receivers):
    siem = receivers("ndjson")
    make_destination("siem", "http", url=siem.url, throttle_limit=5, throttle_interval_seconds=60, throttle_key="host")
    # An agent offline for an hour flushes 60 minutes of buffered logs at once: 4 events a minute.
    backlog = [
        result_line("pack/Global/processes", 1717430400 + minute * 60 + i, minute * 10 + i)
        for minute in range(60)
        for i in range(4)
    ]
    assert enrolled_mac.call("log", {"log_type": "result", "data": backlog}) == {}
    forward_all()
    deliver_all()
    assert len(siem.events) == len(backlog) == 240
    assert not ThrottleDrop.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_per_host_key_and_lines_without_time(enrolled_mac, receivers, vectors):
    siem = receivers("ndjson")
    destination = make_destination("siem", "http", url=siem.url, throttle_limit=2, throttle_key="host")
    status = vectors["logger"]["status"]["data"]  # 5 lines, same host, same second
    undated = [{k: v for k, v in line.items() if k != "unixTime"} for line in status]
    assert enrolled_mac.call("log", {"log_type": "status", "data": undated}) == {}
    forward_all()
    deliver_all()
    # Lines without unixTime count at intake time; the key is the host.
    assert len(siem.events) == 2
    (drop,) = ThrottleDrop.objects.filter(destination=destination)
    assert drop.count == 3 and drop.key == enrolled_mac_identifier()
    assert OutboxEvent.objects.filter(destination=destination).count() == 2


def enrolled_mac_identifier() -> str:
    from hosts.models import Host

    return Host.objects.get().host_identifier


@pytest.mark.django_db(transaction=True)
def test_concurrent_forwarding_keeps_throttle_counts_exact():
    """Four workers parse batches for one throttled destination at once. Lock conflicts are
    retried as the Celery task does; in the end every event is queued or counted as dropped, and
    no interval passed its limit."""
    import threading
    import zlib

    import orjson
    from django.db import DatabaseError, connection

    from collector.models import LogBatch, ThrottleBucket
    from collector.services.forwarding import log_batch_forward

    destination = make_destination(
        "siem", "http", url="http://127.0.0.1:9/", throttle_limit=25, throttle_interval_seconds=60
    )
    total = 0
    for batch in range(16):
        # Spread over three one-minute intervals (offsets 0-179 s).
        lines = [result_line("pack/Global/processes", 1717430400 + (batch * 11 + i) % 180, i) for i in range(10)]
        total += len(lines)
        LogBatch.objects.create(
            host_identifier=f"h{batch}",
            log_type="result",
            line_count=len(lines),
            payload=zlib.compress(orjson.dumps(lines)),
        )
    ids = list(LogBatch.objects.values_list("id", flat=True))
    errors: list[Exception] = []

    def work(mine: list[int]) -> None:
        try:
            for batch_id in mine:
                for _ in range(20):
                    try:
                        log_batch_forward(batch_id=batch_id)
                        break
                    except DatabaseError:
                        continue
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(ids[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert not LogBatch.objects.filter(processed_at__isnull=True).exists()
    queued = OutboxEvent.objects.filter(destination=destination).count()
    dropped = sum(ThrottleDrop.objects.values_list("count", flat=True))
    assert queued + dropped == total == 160
    assert dropped == 160 - 3 * 25  # three one-minute intervals of 25
    assert sorted(ThrottleBucket.objects.values_list("count", flat=True)) == [25, 25, 25]
