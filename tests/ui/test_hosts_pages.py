from datetime import timedelta

import pytest
from django.utils import timezone

from hosts.models import Host
from queries.models import Label, LabelMembership

pytestmark = pytest.mark.django_db


def _fleet(n: int) -> list[Host]:
    now = timezone.now()
    hosts = Host.objects.bulk_create(
        [
            Host(
                host_identifier=f"id-{i}",
                uuid=f"UUID-{i:05d}",
                hostname=f"host-{i:05d}.corp",
                hardware_serial=f"SER{i:05d}",
                primary_ip=f"10.1.{i // 250}.{i % 250}",
                platform=("darwin", "linux", "windows")[i % 3],
                os_name="macOS",
                os_version="14.5",
                osquery_version="5.23.1",
                last_seen_at=now - timedelta(seconds=30 if i % 2 else 3600),
            )
            for i in range(n)
        ],
        batch_size=500,
    )
    labels = [Label.objects.create(name=f"label-{j}", sql="SELECT 1;") for j in range(5)]
    LabelMembership.objects.bulk_create(
        [LabelMembership(label=labels[j], host=h) for h in hosts for j in range(len(labels)) if (h.pk + j) % 2],
        batch_size=1000,
    )
    return hosts


def test_hosts_list_query_count_is_bounded_with_1000_hosts(admin_client_ui, django_assert_max_num_queries):
    _fleet(1000)
    # Session, user, count, page of hosts, labels of that page: the same for 10 or 10,000 hosts.
    with django_assert_max_num_queries(6):
        response = admin_client_ui.get("/hosts/")
    assert response.status_code == 200
    assert response.content.count(b'class="label-chip"') > 50
    with django_assert_max_num_queries(6):
        response = admin_client_ui.get("/hosts/?status=online&platform=linux&page=3&sort=-last_seen")
    assert response.status_code == 200
    with django_assert_max_num_queries(8):
        response = admin_client_ui.get(f"/hosts/?label={Label.objects.get(name='label-2').pk}")
    assert response.status_code == 200


@pytest.mark.parametrize("q", ["host-00042", "UUID-00042", "SER00042", "10.1.0.42"])
def test_hosts_search_by_hostname_uuid_serial_or_ip(admin_client_ui, q):
    _fleet(60)
    body = admin_client_ui.get("/hosts/", {"q": q}).content.decode()
    assert "host-00042.corp" in body
    assert "host-00041.corp" not in body


def test_host_detail_escapes_agent_strings(admin_client_ui):
    host = Host.objects.create(host_identifier="x", hostname="<script>alert(1)</script>", os_name='"><img src=x>')
    body = admin_client_ui.get(f"/hosts/{host.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x>" not in body


def test_dashboard_counts_statuses(admin_client_ui, django_assert_max_num_queries):
    _fleet(30)
    with django_assert_max_num_queries(12):
        response = admin_client_ui.get("/")
    assert response.status_code == 200
    assert response.context["status"]["total"] == 30
    assert response.context["status"]["online"] == 15
    assert response.context["status"]["offline"] == 15


def test_pages_need_login(client):
    for url in ("/", "/hosts/", "/live/", "/add-hosts/", "/reports/", "/performance/", "/collector/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
