from collector.services.delivery_lock import DeliveryLock


def test_one_holder_at_a_time_and_only_the_holder_releases():
    first, second = DeliveryLock(7, 60), DeliveryLock(7, 60)
    assert first.acquire()
    assert not second.acquire()
    assert not second.release() and not second.extend()
    assert first.extend()
    assert first.release()
    assert second.acquire()
    assert not first.release()
    assert DeliveryLock(8, 60).acquire(), "destinations do not share a lock"
