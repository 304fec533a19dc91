"""The collector status page, metrics endpoint and admin actions (test event, replay)."""

import pytest
from django.contrib.auth.models import User

from collector.models import Destination, OutboxEvent, ThrottleDrop

from .conftest import deliver_all, forward_all, make_destination
from .receivers import pick_port

pytestmark = pytest.mark.usefixtures("manual_delivery")


@pytest.fixture
def staff_client(client, db):
    user = User.objects.create_user("ops", password="pw-123456789", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_status_page_shows_queues_drops_and_health(staff_client, enrolled_mac, receivers, vectors):
    ok = receivers("ndjson")
    make_destination("<b>siem</b>", "http", url=ok.url, throttle_limit=1, throttle_key="host")
    make_destination("offline", "http", url=f"http://127.0.0.1:{pick_port()}/", timeout_seconds=1)
    assert enrolled_mac.call("log", {"log_type": "status", "data": vectors["logger"]["status"]["data"]}) == {}
    forward_all()
    deliver_all()
    page = staff_client.get("/collector/status/").content.decode()
    assert "&lt;b&gt;siem&lt;/b&gt;" in page and "<b>siem</b>" not in page
    assert "failing (1)" in page and "ConnectError" in page
    drop = ThrottleDrop.objects.get()
    assert drop.count == 3 and f"{drop.key}: 3" in page  # 5 lines in two minutes, limit 1 a minute


def test_status_page_and_metrics_need_staff(client, db, settings):
    assert client.get("/collector/status/").status_code == 302
    assert client.get("/collector/metrics").status_code == 401
    settings.FLEET = dict(settings.FLEET, METRICS_TOKEN="m-token")
    assert client.get("/collector/metrics", headers={"Authorization": "Bearer m-token"}).status_code == 200
    assert client.get("/collector/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_admin_send_test_event_and_replay(staff_client, receivers, enrolled_mac, vectors):
    hec = receivers("hec", auth="Splunk good")
    destination = make_destination("splunk", "splunk_hec", url=hec.url, secret="bad")
    url = "/admin/collector/destination/"
    reply = staff_client.post(url, {"action": "send_test_event", "_selected_action": [destination.pk]}, follow=True)
    assert "test event failed" in reply.content.decode() and hec.events == []

    Destination.objects.filter(pk=destination.pk).update(secret="good")
    reply = staff_client.post(url, {"action": "send_test_event", "_selected_action": [destination.pk]}, follow=True)
    assert "test event accepted" in reply.content.decode()
    assert hec.events[0]["event"]["log_type"] == "test"

    Destination.objects.filter(pk=destination.pk).update(secret="bad")
    assert enrolled_mac.call("log", {"log_type": "status", "data": vectors["logger"]["status"]["data"]}) == {}
    forward_all()
    deliver_all()
    assert OutboxEvent.objects.filter(state=OutboxEvent.State.DEAD).count() == 5
    assert "401" in staff_client.get("/admin/collector/outboxevent/?state__exact=2").content.decode()
    Destination.objects.filter(pk=destination.pk).update(secret="good")
    staff_client.post(url, {"action": "replay_dead_letters", "_selected_action": [destination.pk]}, follow=True)
    deliver_all()
    assert len(hec.events) == 1 + 5


def test_destination_form_rejects_bad_rules(staff_client):
    reply = staff_client.post(
        "/admin/collector/destination/add/",
        {
            "name": "x",
            "kind": "splunk_hec",
            "url": "ftp://nope",
            "mask_fields": '[{"field": "a", "regex": "("}]',
            "drop_fields": "[]",
            "log_types": '["results"]',
            "headers": "{}",
        },
    )
    text = reply.content.decode()
    assert "An http:// or https:// URL is required" in text
    assert "bad regex" in text and "Splunk HEC needs its token" in text
    assert "Use a list of &quot;result&quot;" in text
    assert not Destination.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outbox_replay_action_from_the_dead_letter_list(staff_client, receivers, enrolled_mac, vectors):
    ndjson = receivers("ndjson", auth="Bearer good")
    destination = make_destination("siem", "http", url=ndjson.url, auth="bearer", secret="bad")
    assert enrolled_mac.call("log", {"log_type": "status", "data": vectors["logger"]["status"]["data"]}) == {}
    forward_all()
    deliver_all()
    dead = list(OutboxEvent.objects.filter(state=OutboxEvent.State.DEAD).values_list("id", flat=True))
    assert len(dead) == 5
    Destination.objects.filter(pk=destination.pk).update(secret="good")
    reply = staff_client.post(
        "/admin/collector/outboxevent/", {"action": "replay", "_selected_action": dead[:2]}, follow=True
    )
    assert "2 dead-lettered events queued again" in reply.content.decode()
    deliver_all()
    assert len(ndjson.events) == 2
    assert OutboxEvent.objects.filter(state=OutboxEvent.State.DEAD).count() == 3


@pytest.mark.django_db(transaction=True)
def test_collector_admin_pages_render(staff_client, receivers, enrolled_mac, vectors):
    from hosts.models import Host

    siem = receivers("ndjson")
    destination = make_destination("siem", "http", url=siem.url, throttle_limit=1)
    assert enrolled_mac.call("log", {"log_type": "status", "data": vectors["logger"]["status"]["data"]}) == {}
    forward_all()
    deliver_all()
    event = OutboxEvent.objects.first()
    pages = [
        "/admin/collector/destination/",
        "/admin/collector/destination/add/",
        f"/admin/collector/destination/{destination.pk}/change/",
        "/admin/collector/outboxevent/?state__exact=2",
        f"/admin/collector/outboxevent/{event.pk}/change/",
        "/admin/collector/throttledrop/",
        "/admin/collector/queryreportrow/",
        "/admin/collector/statuslogline/?severity__exact=2",
        "/collector/status/",
        f"/collector/hosts/{Host.objects.get().pk}/reports/",
        "/collector/metrics",
    ]
    for page in pages:
        assert staff_client.get(page).status_code == 200, page
    assert event.event_id in staff_client.get(f"/admin/collector/outboxevent/{event.pk}/change/").content.decode()
