"""file.d-style throttle: at most `limit` events per interval per destination (and per key),
counted on the events' own time, so a backlog an agent flushes after an outage falls into the
intervals it was logged in instead of one burst. Excess events are dropped and counted."""

from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from django.db import connection
from django.utils import timezone

from ..models import Destination, ThrottleBucket, ThrottleDrop

T = TypeVar("T")
KEY_MAX = 255


def _upsert_kwargs(unique: list[str]) -> dict[str, object]:
    # MySQL/MariaDB upsert on any unique key and refuse an explicit target; SQLite needs one.
    if connection.features.supports_update_conflicts_with_target:
        return {"unique_fields": unique}
    return {}


def throttle_apply(
    *,
    destination: Destination,
    items: list[T],
    key_of: Callable[[T], str],
    time_of: Callable[[T], float],
) -> tuple[list[T], Counter[str]]:
    """The items that pass and the drops per key. Must run inside the transaction that queues
    the passing items, so counts and queue agree even if that transaction rolls back."""
    limit = destination.throttle_limit
    if not limit or not items:
        return items, Counter()
    interval = max(1, destination.throttle_interval_seconds)
    placed = [(item, key_of(item)[:KEY_MAX], int(time_of(item) // interval)) for item in items]
    keys = {key for _, key, _ in placed}
    buckets = {bucket for _, _, bucket in placed}
    pairs = sorted({(key, bucket) for _, key, bucket in placed})
    # Make sure every counter row exists, then lock them: under READ COMMITTED a locking read of
    # a missing row locks nothing, and two workers would both start from zero.
    ThrottleBucket.objects.bulk_create(
        [ThrottleBucket(destination=destination, key=k, bucket=b, count=0) for k, b in pairs], ignore_conflicts=True
    )
    counts: dict[tuple[str, int], int] = {
        (row.key, row.bucket): row.count
        for row in ThrottleBucket.objects.select_for_update()
        .filter(destination=destination, key__in=keys, bucket__in=buckets)
        .order_by("key", "bucket")
    }
    touched: set[tuple[str, int]] = set()
    passed: list[T] = []
    dropped: Counter[str] = Counter()
    for item, key, bucket in placed:
        current = counts.get((key, bucket), 0)
        if current < limit:
            counts[(key, bucket)] = current + 1
            touched.add((key, bucket))
            passed.append(item)
        else:
            dropped[key] += 1
    if touched:
        ThrottleBucket.objects.bulk_create(
            [ThrottleBucket(destination=destination, key=k, bucket=b, count=counts[(k, b)]) for k, b in touched],
            update_conflicts=True,
            update_fields=["count"],
            **_upsert_kwargs(["destination", "key", "bucket"]),  # type: ignore[arg-type]
        )
    if dropped:
        ThrottleDrop.objects.bulk_create(
            [ThrottleDrop(destination=destination, key=key, count=0) for key in sorted(dropped)], ignore_conflicts=True
        )
        existing = {
            row.key: row.count
            for row in ThrottleDrop.objects.select_for_update()
            .filter(destination=destination, key__in=dropped)
            .order_by("key")
        }
        now = timezone.now()
        ThrottleDrop.objects.bulk_create(
            [
                ThrottleDrop(destination=destination, key=key, count=existing.get(key, 0) + n, last_dropped_at=now)
                for key, n in dropped.items()
            ],
            update_conflicts=True,
            update_fields=["count", "last_dropped_at"],
            **_upsert_kwargs(["destination", "key"]),  # type: ignore[arg-type]
        )
    return passed, dropped
