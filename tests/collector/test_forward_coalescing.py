"""Intake hands new batches to the workers with at most one broker message per short window."""

import zlib

import orjson
import pytest

from collector import tasks
from collector.models import LogBatch
from fleetweb.redis import get_redis
from hosts.models import Host


@pytest.mark.django_db
def test_one_forward_task_per_window_whatever_the_number_of_posts(
    enrolled_mac, vectors, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as on a real deployment: tasks go to the broker
    published = []
    monkeypatch.setattr(tasks.forward_new_batches_task, "apply_async", lambda **kw: published.append(kw))
    line = vectors["logger"]["status"]["data"][0]
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert enrolled_mac.call("log", {"log_type": "status", "data": [line]}) == {}
    assert len(published) == 1
    assert published[0]["countdown"] == settings.FLEET["FORWARD_COALESCE_MS"] / 1000
    assert LogBatch.objects.filter(processed_at__isnull=True).count() == 5


@pytest.mark.django_db
def test_the_forward_task_queues_each_host_once_and_forwards_everything(enrolled_mac, vectors):
    line = vectors["logger"]["status"]["data"][0]
    host = Host.objects.get()
    for _ in range(3):
        LogBatch.objects.create(
            host=host, host_identifier="h", log_type="status", line_count=1, payload=zlib.compress(orjson.dumps([line]))
        )
    get_redis().set("fwd:scheduled", 1)
    assert tasks.forward_new_batches_task() == 1  # one host: one task, for its newest batch
    assert not LogBatch.objects.filter(processed_at__isnull=True).exists()
    assert get_redis().get("fwd:scheduled") is None
