"""The embedded server (no REDIS_URL) keeps working without Celery beat or a shared Redis."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fleetweb import embedded_beat
from fleetweb.redis import embedded_sync, generation_bump, get_redis
from queries.agent_config import GENERATION_KEY as CONFIG_GENERATION
from queries.membership import GENERATION_KEY as LABEL_GENERATION
from queries.models import Campaign


@pytest.mark.django_db
def test_beat_schedule_runs_in_process_and_expires_campaigns(settings):
    campaign = Campaign.objects.create(sql="SELECT 1", expires_at=timezone.now() - timedelta(seconds=1))
    next_run: dict[str, float] = {}
    ran = embedded_beat.run_due(next_run, now=1000.0)
    assert "queries-expire-campaigns" in ran
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.EXPIRED
    # Nothing runs again before its interval has passed.
    assert embedded_beat.run_due(next_run, now=1001.0) == []
    assert "hosts-flush-last-seen" in embedded_beat.run_due(next_run, now=1011.0)


def test_a_bump_in_another_process_reaches_the_server(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.BASE_DIR = tmp_path
    redis = get_redis()
    embedded_sync()  # settle on the current stamp
    before = {key: int(redis.get(key) or 0) for key in (CONFIG_GENERATION, LABEL_GENERATION)}
    # What a management command's bump leaves behind: a newer stamp file.
    generation_bump(CONFIG_GENERATION)
    redis.set(CONFIG_GENERATION, before[CONFIG_GENERATION])  # the server's counter never saw it
    from fleetweb import redis as redis_module

    redis.set("nk:cached-node-key", b"{}")
    redis_module._seen_stamp[0] = 0
    embedded_sync()
    # A host deleted by another process: its cached node key must not outlive the change.
    assert redis.get("nk:cached-node-key") is None
    assert int(redis.get(CONFIG_GENERATION)) > before[CONFIG_GENERATION]
    assert int(redis.get(LABEL_GENERATION)) > before[LABEL_GENERATION]
    # Without a new stamp, nothing is rebuilt again.
    after = int(redis.get(CONFIG_GENERATION))
    embedded_sync()
    assert int(redis.get(CONFIG_GENERATION)) == after


@pytest.mark.django_db
def test_unknown_host_header_gets_json_on_agent_paths(client, settings):
    # DisallowedHost is raised before any view: the agent must still read a JSON error.
    settings.ALLOWED_HOSTS = ["fleet.example.com"]
    response = client.post("/api/osquery/config", b"{}", content_type="application/json", HTTP_HOST="other.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()
    page = client.get("/admin/", HTTP_HOST="other.example")
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/json")
