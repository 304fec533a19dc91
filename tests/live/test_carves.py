"""A carve requested through a live query: linked to the campaign, reassembled, downloadable, expired."""

import hashlib
import io
import tarfile
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from collector.models import CarveBlock, CarveSession
from collector.services.carves import carve_expire
from tests.agent_sim import sim_fleet

CARVE_SQL = "SELECT * FROM carves WHERE path = '/tmp/rook.stl' AND carve = 1;"


@pytest.mark.django_db
def test_carve_from_live_query(client, enroll_secret, django_capture_on_commit_callbacks):
    (agent,) = sim_fleet(client, 1)
    agent.checkin()
    payload = b"solid rook\n" * 3000  # ~33 KB: several 8 KiB blocks
    agent.carve_files["/tmp/rook.stl"] = payload
    user = get_user_model().objects.create_superuser(username="ir", password="x" * 12)
    api = Client()
    api.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        launched = api.post(
            "/api/v1/fleetweb/campaigns", {"sql": CARVE_SQL, "targets": {"all": True}}, content_type="application/json"
        ).json()
    with django_capture_on_commit_callbacks(execute=True):
        agent.checkin()
    (sha256,) = agent.upload_carves()

    carves = api.get(f"/api/v1/fleetweb/campaigns/{launched['id']}/carves").json()["carves"]
    assert len(carves) == 1
    carve = carves[0]
    assert carve["complete"] is True and carve["sha256"] == sha256
    session = CarveSession.objects.get(pk=carve["carve_session_id"])
    assert session.carve_id == carve["carve_guid"] and session.request_id == carve["request_id"]

    response = api.get(f"/api/v1/fleetweb/carves/{session.pk}/download")
    assert response.status_code == 200
    archive = b"".join(response.streaming_content)
    assert hashlib.sha256(archive).hexdigest() == sha256 == response["X-Carve-SHA256"]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert tar.extractfile("tmp/rook.stl").read() == payload

    # After the retention period the archive is deleted and the download says why.
    assert carve_expire(now=timezone.now() + timedelta(days=31)) == 1
    assert not CarveBlock.objects.exists()
    expired = api.get(f"/api/v1/fleetweb/carves/{session.pk}/download")
    assert expired.status_code == 409
    assert expired.json() == {"error": "expired: the archive was deleted after the retention period"}


@pytest.mark.django_db
def test_incomplete_carve_is_not_downloadable(client, enroll_secret):
    (agent,) = sim_fleet(client, 1)
    reply = agent.api.call(
        "carve/begin", {"block_count": 2, "block_size": 8192, "carve_size": 10240, "carve_id": "c1", "request_id": "r1"}
    )
    session = CarveSession.objects.get(session_id=reply["session_id"])
    user = get_user_model().objects.create_superuser(username="ir", password="x" * 12)
    api = Client()
    api.force_login(user)
    response = api.get(f"/api/v1/fleetweb/carves/{session.pk}/download")
    assert (response.status_code, response.json()) == (409, {"error": "carve is incomplete: 0 of 2 blocks received"})
