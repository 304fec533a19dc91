"""Transactions the database picks as deadlock victims are run again (fleetweb.db)."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from fleetweb.db import restart_on_deadlock
from hosts.models import Host


def _hosts(n: int) -> list[int]:
    return [Host.objects.create(host_identifier=f"lock-{i}", node_key_hash=f"{i:064x}").pk for i in range(n)]


@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_victim_is_restarted_and_both_transactions_commit():
    if connection.vendor != "mysql":
        pytest.skip("deadlock detection is InnoDB's")
    first, second = _hosts(2)
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts: list[str] = []

    @restart_on_deadlock
    @transaction.atomic
    def rename(name: str, order: tuple[int, int]) -> None:
        attempts.append(name)
        Host.objects.select_for_update().get(pk=order[0])
        if attempts.count(name) == 1:
            both_hold_one.wait()  # each holds one row and now asks for the other's: a deadlock
        Host.objects.filter(pk=order[1]).update(hostname=name)
        Host.objects.filter(pk=order[0]).update(hostname=name)

    errors: list[BaseException] = []

    def run(name: str, order: tuple[int, int]) -> None:
        try:
            rename(name, order)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("a", (first, second))),
        threading.Thread(target=run, args=("b", (second, first))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    # One of them was rolled back by InnoDB and ran again.
    assert sorted(attempts) in (["a", "a", "b"], ["a", "b", "b"])
    names = set(Host.objects.filter(pk__in=[first, second]).values_list("hostname", flat=True))
    assert len(names) == 1  # the transaction that ran last renamed both rows


@pytest.mark.django_db(transaction=True)
def test_other_errors_and_the_last_attempt_are_raised():
    calls = []

    @restart_on_deadlock
    def always(code: int) -> None:
        calls.append(code)
        raise OperationalError(code, "simulated")

    with pytest.raises(OperationalError):
        always(1062)
    assert calls == [1062]
    calls.clear()
    with pytest.raises(OperationalError):
        always(1213)
    assert calls == [1213, 1213, 1213]


@pytest.mark.django_db
def test_inside_an_outer_transaction_the_deadlock_is_raised_at_once():
    calls = []

    @restart_on_deadlock
    def victim() -> None:
        calls.append(1)
        raise OperationalError(1213, "Deadlock found when trying to get lock")

    with pytest.raises(OperationalError):
        victim()  # the test's own transaction is the outer one
    assert calls == [1]
