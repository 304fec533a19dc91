"""Periodic tasks for the embedded server, which has no Celery worker or beat.

Without REDIS_URL, tasks run inline and nothing would run the beat schedule: live queries would
never expire and retention would never prune. This thread runs CELERY_BEAT_SCHEDULE's interval
entries inside the server process instead. It starts from the WSGI entry point only, so
management commands and tests never run it.
"""

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)
_started = threading.Event()


def _interval_seconds(schedule: Any) -> float | None:
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    run_every = getattr(schedule, "run_every", None)  # celery.schedules.schedule
    return run_every.total_seconds() if isinstance(run_every, timedelta) else None


def start() -> None:
    if settings.REDIS_URL or _started.is_set():
        return
    _started.set()
    threading.Thread(target=_run_forever, name="embedded-beat", daemon=True).start()


def run_due(next_run: dict[str, float], now: float) -> list[str]:
    """Run every entry that is due; returns the names that ran. Failures are logged, not raised,
    so one broken task cannot stop the others."""
    from fleetweb.celery import app

    app.loader.import_default_modules()
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        every = _interval_seconds(entry["schedule"])
        if every is None:
            continue
        if now < next_run.setdefault(name, now):
            continue
        next_run[name] = now + every
        try:
            app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            ran.append(name)
        except Exception:
            log.exception("embedded beat: %s failed", name)
    return ran


def _run_forever() -> None:
    next_run: dict[str, float] = {}
    time.sleep(2)  # let the server finish starting
    while True:
        run_due(next_run, time.monotonic())
        # This thread's own connection, handled like a request's.
        close_old_connections()
        time.sleep(1)
