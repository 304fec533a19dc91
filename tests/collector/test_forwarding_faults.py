"""Faults with nothing lost: a SIEM down and back, scripted 429/503, an Elasticsearch partial
failure, a stalled receiver, permanent refusals (dead letters and replay). Counts are exact:
sent == received, and duplicates only for events whose attempts show a retry."""

import threading

import pytest

from collector.models import Destination, OutboxEvent
from collector.services.forwarding import destination_deliver, outbox_replay

from .conftest import clear_backoff, deliver_all, forward_all, make_destination, pending
from .logdata import all_batches
from .test_forwarding_destinations import TOTAL, feed_everything

DELIVERED, DEAD = OutboxEvent.State.DELIVERED, OutboxEvent.State.DEAD
pytestmark = pytest.mark.usefixtures("manual_delivery")


def states(destination: Destination) -> dict[int, int]:
    rows = OutboxEvent.objects.filter(destination=destination).values_list("state", flat=True)
    return {state: list(rows).count(state) for state in set(rows)}


@pytest.mark.django_db(transaction=True)
def test_siem_down_then_back_loses_nothing_and_does_not_hold_up_others(enrolled_mac, receivers):
    down = receivers("ndjson")
    healthy = receivers("hec", auth="Splunk t")
    flaky = make_destination("down", "http", url=down.url, batch_max_events=10)
    make_destination("healthy", "splunk_hec", url=healthy.url, secret="t")
    down.down = True

    feed_everything(enrolled_mac)
    forward_all()
    deliver_all()  # one attempt for the dead SIEM: it fails and backs off
    for _ in range(2):
        clear_backoff()
        assert destination_deliver(destination_id=flaky.pk, flush=True).retrying == 10

    assert len(healthy.events) == TOTAL, "a dead SIEM must not delay another destination"
    assert down.events == [] and pending(flaky) == TOTAL
    flaky.refresh_from_db()
    assert flaky.consecutive_failures >= 3 and "503" in flaky.last_error
    # Only the head of the queue was tried (order is kept); the rest waited untouched.
    assert OutboxEvent.objects.filter(destination=flaky, attempts=flaky.consecutive_failures).count() == 10
    assert OutboxEvent.objects.filter(destination=flaky, attempts=0).count() == TOTAL - 10

    down.down = False
    clear_backoff()
    deliver_all()
    assert sorted(down.event_ids()) == sorted(healthy.event_ids())
    assert not down.duplicates()
    flaky.refresh_from_db()
    assert flaky.consecutive_failures == 0 and flaky.retry_after is None and flaky.last_success_at


@pytest.mark.django_db(transaction=True)
def test_scripted_429_and_503_are_retried_with_backoff(enrolled_mac, receivers):
    hec = receivers("hec", auth="Splunk t")
    destination = make_destination("splunk", "splunk_hec", url=hec.url, secret="t", backoff_base_seconds=0)
    hec.scripted = [503, 429, 500, 503]
    feed_everything(enrolled_mac)
    forward_all()

    first = destination_deliver(destination_id=destination.pk, flush=True)
    assert first.delivered == 0 and first.retrying > 0 and first.next_run_in is not None
    deliver_all()
    assert len(hec.events) == TOTAL and not hec.duplicates()
    assert [status for status, _ in hec.refused] == [503, 429, 500, 503]


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    destination = Destination(backoff_base_seconds=2, backoff_max_seconds=60)
    from collector.services.forwarding import backoff_seconds

    for failures, ceiling in ((1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (20, 60)):
        for _ in range(20):
            assert ceiling / 2 <= backoff_seconds(destination, failures) <= ceiling


@pytest.mark.django_db(transaction=True)
def test_elasticsearch_partial_failure_retries_only_failed_items(enrolled_mac, receivers):
    bulk = receivers("bulk")
    destination = make_destination(
        "elastic", "elasticsearch", url=bulk.url, backoff_base_seconds=0, batch_max_events=1000
    )
    feed_everything(enrolled_mac)
    forward_all()
    ids = list(OutboxEvent.objects.filter(destination=destination).order_by("id").values_list("event_id", flat=True))
    rejected, broken = set(ids[3:9]), ids[20]
    bulk.fail_items = {event_id: 429 for event_id in rejected} | {broken: 400}

    deliver_all()

    assert states(destination) == {DELIVERED: TOTAL - 1, DEAD: 1}
    dead = OutboxEvent.objects.get(destination=destination, state=DEAD)
    assert dead.event_id == broken and "item status 400" in dead.last_error
    # Accepted items were sent once; the 429s exactly twice; nothing was indexed twice.
    assert {i: n for i, n in bulk.bulk_attempts.items() if n > 1} == dict.fromkeys(rejected, 2)
    assert len(bulk.events) == TOTAL - 1 and not bulk.duplicates()

    # The dead letter is visible and can be replayed once the cause is fixed.
    assert outbox_replay(queryset=OutboxEvent.objects.filter(destination=destination)) == 1
    deliver_all()
    assert len(bulk.events) == TOTAL and set(bulk.event_ids()) == set(ids)


@pytest.mark.django_db(transaction=True)
def test_retried_bulk_after_a_lost_reply_is_not_indexed_twice(enrolled_mac, receivers):
    """The receiver indexed the batch but the reply never arrived (timeout): the resend uses the
    same ids with `create`, gets 409s, and counts them as delivered."""
    bulk = receivers("bulk")
    destination = make_destination(
        "elastic", "elasticsearch", url=bulk.url, backoff_base_seconds=0, timeout_seconds=0.5
    )
    lines = dict((label, lines) for label, _, lines in all_batches())["result_snapshot_format"]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()
    bulk.stall.clear()
    report = destination_deliver(destination_id=destination.pk, flush=True)
    assert report.retrying == 5 and "Timeout" in report.errors[0]
    bulk.stall.set()
    deliver_all()
    assert states(destination) == {DELIVERED: 5}
    assert len(bulk.events) == 5 and set(bulk.bulk_attempts.values()) == {2}


@pytest.mark.django_db(transaction=True)
def test_a_stalled_receiver_does_not_delay_other_destinations(enrolled_mac, receivers):
    stalled = receivers("ndjson")
    other = receivers("ndjson")
    slow = make_destination("stalled", "http", url=stalled.url, timeout_seconds=30, backoff_base_seconds=0)
    make_destination("other", "http", url=other.url)
    lines = dict((label, lines) for label, _, lines in all_batches())["result_mixed_batch_of_lines"]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()

    stalled.stall.clear()
    worker = threading.Thread(target=destination_deliver, kwargs={"destination_id": slow.pk, "flush": True})
    worker.start()
    try:
        # While the stalled delivery is blocked on its receiver, the other destination delivers.
        deliver_other = destination_deliver(destination_id=Destination.objects.get(name="other").pk, flush=True)
        assert deliver_other.delivered == 5 and len(other.events) == 5
        assert worker.is_alive() and stalled.events == []
        # A second run for the stalled destination does not pile up behind it: the lock says busy.
        assert destination_deliver(destination_id=slow.pk, flush=True).locked
    finally:
        stalled.stall.set()
        worker.join()
    assert len(stalled.events) == 5 and pending(slow) == 0


@pytest.mark.django_db(transaction=True)
def test_stalled_receiver_timeout_resends_with_the_same_event_ids(enrolled_mac, receivers):
    stalled = receivers("ndjson")
    slow = make_destination("stalled", "http", url=stalled.url, timeout_seconds=0.5, backoff_base_seconds=0)
    lines = dict((label, lines) for label, _, lines in all_batches())["result_mixed_batch_of_lines"]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()
    stalled.stall.clear()
    assert destination_deliver(destination_id=slow.pk, flush=True).retrying == 5
    stalled.stall.set()
    deliver_all()
    # The receiver processed the timed-out request late, so every event came twice: the event ids
    # show it, and each one's attempts say it was retried.
    retried = set(OutboxEvent.objects.filter(destination=slow, attempts=2).values_list("event_id", flat=True))
    assert set(stalled.duplicates()) <= retried
    assert set(stalled.event_ids()) == set(
        OutboxEvent.objects.filter(destination=slow).values_list("event_id", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_permanent_refusal_dead_letters_and_replay_delivers(enrolled_mac, receivers):
    hec = receivers("hec", auth="Splunk right-token")
    destination = make_destination("splunk", "splunk_hec", url=hec.url, secret="wrong-token")
    feed_everything(enrolled_mac)
    forward_all()
    deliver_all()
    assert states(destination) == {DEAD: TOTAL} and hec.events == []
    assert "401" in OutboxEvent.objects.filter(destination=destination).first().last_error

    Destination.objects.filter(pk=destination.pk).update(secret="right-token")
    assert outbox_replay(queryset=OutboxEvent.objects.filter(destination=destination)) == TOTAL
    deliver_all()
    assert states(destination) == {DELIVERED: TOTAL} and len(hec.events) == TOTAL


@pytest.mark.django_db(transaction=True)
def test_dead_letter_after_max_attempts_and_max_age(enrolled_mac, receivers):
    down = receivers("ndjson")
    down.down = True
    by_attempts = make_destination("attempts", "http", url=down.url, max_attempts=3, backoff_base_seconds=0)
    feed_everything(enrolled_mac)
    forward_all()
    deliver_all(rounds=10)
    assert states(by_attempts) == {DEAD: TOTAL}
    assert set(OutboxEvent.objects.filter(destination=by_attempts).values_list("attempts", flat=True)) == {3}

    by_age = make_destination("age", "http", url=down.url, max_age_seconds=0, backoff_base_seconds=0)
    OutboxEvent.objects.filter(destination=by_attempts).update(state=OutboxEvent.State.PENDING, attempts=0)
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                **{f.attname: getattr(e, f.attname) for f in OutboxEvent._meta.concrete_fields if f.attname != "id"}
                | {"destination_id": by_age.pk}
            )
            for e in OutboxEvent.objects.filter(destination=by_attempts)
        ]
    )
    destination_deliver(destination_id=by_age.pk, flush=True)
    assert states(by_age) == {DEAD: TOTAL}
    assert "not delivered within 0 s" in OutboxEvent.objects.filter(destination=by_age).first().last_error


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_task_was_lost_is_forwarded_by_the_sweep(enrolled_mac, receivers, settings, monkeypatch):
    from collector.services import logs
    from collector.tasks import collector_sweep_task

    siem = receivers("ndjson")
    make_destination("siem", "http", url=siem.url)
    monkeypatch.setattr(logs, "_on_stored", [])  # the broker was down when intake committed
    lines = dict((label, lines) for label, _, lines in all_batches())["result_mixed_batch_of_lines"]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    assert siem.events == []
    settings.FLEET = dict(settings.FLEET, FORWARD_STALE_SECONDS=0)
    collector_sweep_task()  # beat runs this every few seconds: it parses the batch, then delivers
    assert len(siem.events) == 5


@pytest.mark.django_db(transaction=True)
def test_events_of_a_host_arrive_in_order(enrolled_mac, receivers):
    siem = receivers("ndjson")
    destination = make_destination("siem", "http", url=siem.url, batch_max_events=7)
    feed_everything(enrolled_mac)
    forward_all()
    deliver_all()
    queued = list(OutboxEvent.objects.filter(destination=destination).order_by("id").values_list("event_id", flat=True))
    assert siem.event_ids() == queued
    batches = list(
        OutboxEvent.objects.filter(destination=destination).order_by("id").values_list("batch_id", flat=True)
    )
    assert batches == sorted(batches), "events are queued in the order the host sent its batches"


@pytest.mark.django_db(transaction=True)
def test_throttled_siem_down_and_back_sent_equals_received_plus_drops(enrolled_mac, receivers):
    from collector.models import ThrottleDrop

    siem = receivers("bulk")
    destination = make_destination(
        "elastic",
        "elasticsearch",
        url=siem.url,
        throttle_limit=2,
        throttle_key="query",
        throttle_interval_seconds=3600,
        batch_max_events=8,
    )
    siem.scripted = [503, 503, 502]
    feed_everything(enrolled_mac)
    forward_all()
    for _ in range(3):
        clear_backoff()
        assert destination_deliver(destination_id=destination.pk, flush=True).retrying == 8
    clear_backoff()
    deliver_all()
    drops = sum(ThrottleDrop.objects.filter(destination=destination).values_list("count", flat=True))
    assert drops > 0
    assert len(siem.events) + drops == TOTAL
    assert not siem.duplicates() and max(siem.bulk_attempts.values()) == 1
