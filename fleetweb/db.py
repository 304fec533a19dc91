"""Database helpers shared by the apps."""

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection

P = ParamSpec("P")
R = TypeVar("R")

# MySQL/MariaDB error codes that mean "this transaction lost, run it again": a deadlock victim,
# and a lock wait that timed out.
_RESTARTABLE = (1213, 1205)
ATTEMPTS = 3


def restart_on_deadlock(transaction_fn: Callable[P, R]) -> Callable[P, R]:
    """Run a transaction again when the database chose it as a deadlock victim.

    Hosts that report their inventory at the same moment replace rows next to each other in the
    same indexes (DELETE then INSERT per host), and InnoDB's gap locks make some of those
    transactions deadlock; InnoDB rolls one back and asks for it to be restarted. Wrap the
    function that opens the transaction (it must not run inside an outer one, which the rollback
    has already spoiled: there the error is raised at once).
    """

    @wraps(transaction_fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return transaction_fn(*args, **kwargs)
            except OperationalError as exc:
                restartable = bool(exc.args) and exc.args[0] in _RESTARTABLE
                if not restartable or attempt == ATTEMPTS or connection.in_atomic_block:
                    raise
                # A short random pause, so the two losers do not collide again in step.
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311  # nosec B311 - a pause, not a secret
        raise AssertionError("unreachable")

    return run
