from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hosts.inventory.models import HostDetails, HostInterface, HostSoftware, HostUser
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
    HostDetails.objects.bulk_create(
        [HostDetails(host=h, cpu_brand="Apple M2", physical_memory=16 << 30, distributed_interval=10) for h in hosts],
        batch_size=500,
    )
    HostSoftware.objects.bulk_create(
        [HostSoftware(host=h, name=f"app-{k}", version="1.0", source="apps") for h in hosts for k in range(5)],
        batch_size=1000,
    )
    HostUser.objects.bulk_create([HostUser(host=h, uid="501", username="jane") for h in hosts], batch_size=1000)
    HostInterface.objects.bulk_create(
        [HostInterface(host=h, interface="en0", address=h.primary_ip, default_route=True) for h in hosts],
        batch_size=1000,
    )
    labels = [Label.objects.create(name=f"label-{j}", sql="SELECT 1;") for j in range(5)]
    LabelMembership.objects.bulk_create(
        [LabelMembership(label=labels[j], host=h) for h in hosts for j in range(len(labels)) if (h.pk + j) % 2],
        batch_size=1000,
    )
    return hosts


# Session, user, role profile, count, one page of hosts, that page's labels, that page's check-in
# intervals (for status): a fixed number whatever the fleet size.
HOST_LIST_QUERIES = 7


def _host_list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_hosts_list_query_count_is_bounded_with_1000_hosts(admin_client_ui, django_assert_max_num_queries):
    _fleet(1000)
    assert Host.objects.count() == 1000 and HostSoftware.objects.count() == 5000
    with django_assert_max_num_queries(HOST_LIST_QUERIES):
        response = admin_client_ui.get("/hosts/")
    assert response.content.count(b'class="label-chip"') > 50
    assert response.content.count(b"status-online") + response.content.count(b"status-offline") == 50
    for url in (
        "/hosts/?status=online&platform=linux&page=3&sort=-last_seen",
        f"/hosts/?label={Label.objects.get(name='label-2').pk}&page=2",
        "/hosts/?q=host-00",
        "/hosts/?page=20",
    ):
        with django_assert_max_num_queries(HOST_LIST_QUERIES):
            response = admin_client_ui.get(url)
        assert response.status_code == 200, url


def test_hosts_list_query_count_does_not_grow_with_the_fleet(admin_client_ui):
    _fleet(10)
    small = _host_list_queries(admin_client_ui, "/hosts/")
    Host.objects.all().delete()
    Label.objects.all().delete()
    _fleet(300)
    assert _host_list_queries(admin_client_ui, "/hosts/") == small


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


def test_hosts_list_sorts_both_ways(admin_client_ui):
    _fleet(5)
    ascending = admin_client_ui.get("/hosts/?sort=hostname").content.decode()
    assert ascending.index("host-00000.corp") < ascending.index("host-00004.corp")
    assert 'href="?sort=-hostname"' in ascending  # the header now links to the other direction
    descending = admin_client_ui.get("/hosts/?sort=-hostname").content.decode()
    assert descending.index("host-00004.corp") < descending.index("host-00000.corp")
    assert admin_client_ui.get("/hosts/?sort=bogus").status_code == 200
