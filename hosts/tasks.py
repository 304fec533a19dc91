from celery import shared_task

from .presence import last_seen_flush


@shared_task(name="hosts.tasks.last_seen_flush_task", ignore_result=True)
def last_seen_flush_task() -> int:
    """Move batched last-seen times from Redis into the database (scheduled by beat)."""
    return last_seen_flush()
