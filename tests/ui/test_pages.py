"""The analyst pages with real data: add hosts, reports, performance, collector, live query."""

import re
import time
from pathlib import Path

import pytest

from collector.models import Destination, OutboxEvent, ThrottleDrop
from hosts.inventory.models import HostQueryStat
from hosts.models import Host
from hosts.tls import ensure_self_signed_cert
from queries.models import Campaign, Pack, Policy, PolicyResult, Query, ScheduledQuery

from .conftest import make_user

pytestmark = pytest.mark.django_db


def test_add_hosts_page_and_downloads(admin_client_ui, secret, settings, tmp_path):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    ensure_self_signed_cert(cert, key, "fleet.example.com")
    settings.FLEET = {**settings.FLEET, "TLS_CERT_PATH": str(cert), "TLS_HOSTNAME": "fleet.example.com:8443"}

    body = admin_client_ui.get("/add-hosts/").content.decode()
    assert secret.secret in body
    assert "sudo systemctl enable --now osqueryd" in body
    assert "--install" in body and "launchctl load" in body

    flags = admin_client_ui.get("/add-hosts/linux/osquery.flags")
    assert flags["Content-Disposition"] == 'attachment; filename="osquery.flags"'
    text = flags.content.decode()
    assert "--tls_hostname=fleet.example.com:8443" in text
    assert "--tls_server_certs=/etc/osquery/server.crt" in text
    assert "--enroll_secret_path=/etc/osquery/enroll_secret" in text
    assert "--enroll_tls_endpoint=/api/osquery/enroll" in text
    windows = admin_client_ui.get("/add-hosts/windows/osquery.flags").content.decode()
    assert r"--tls_server_certs=C:\Program Files\osquery\server.crt" in windows
    assert admin_client_ui.get("/add-hosts/beos/osquery.flags").status_code == 404

    downloaded = admin_client_ui.get("/add-hosts/server.crt")
    assert downloaded.content == cert.read_bytes()
    assert admin_client_ui.get(f"/add-hosts/secret/{secret.pk}/enroll_secret").content == secret.secret.encode()


def test_add_hosts_hides_the_secret_from_observers(observer_client, secret, settings):
    settings.FLEET = {**settings.FLEET, "TLS_CERT_PATH": "/nonexistent/server.crt"}
    body = observer_client.get("/add-hosts/").content.decode()
    assert secret.secret not in body
    assert "Ask a maintainer or admin" in body
    assert observer_client.get(f"/add-hosts/secret/{secret.pk}/enroll_secret").status_code == 403
    assert observer_client.get("/add-hosts/server.crt").status_code == 404


def test_query_report_shows_latest_rows_across_hosts(
    admin_client_ui, enrolled_mac, vectors, django_capture_on_commit_callbacks
):
    query = Query.objects.create(name="osquery info", sql="SELECT version FROM osquery_info;")
    pack = Pack.objects.create(name="monitoring", target_platforms="darwin")
    sq = ScheduledQuery.objects.create(pack=pack, query=query, name="info", interval=60)
    snapshot = {
        "name": "pack/monitoring/info",
        "hostIdentifier": "Janes-MacBook-Pro.local",
        "calendarTime": "Mon Jun  3 16:00:00 2024 UTC",
        "unixTime": 1717430400,
        "action": "snapshot",
        "snapshot": [{"version": "5.23.1", "note": "<script>alert(1)</script>"}],
    }
    with django_capture_on_commit_callbacks(execute=True):  # forwarding runs after intake commits
        assert enrolled_mac.call("log", {"log_type": "result", "data": [snapshot]}) == {}

    body = admin_client_ui.get("/reports/").content.decode()
    assert f'href="/reports/{sq.pk}/"' in body
    detail = admin_client_ui.get(f"/reports/{sq.pk}/").content.decode()
    assert "5.23.1" in detail and "Janes-MacBook-Pro.local" in detail
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail and "<script>alert(1)" not in detail


def test_query_performance_ranks_denylisted_first(admin_client_ui):
    hosts = Host.objects.bulk_create([Host(host_identifier=f"h{i}", hostname=f"h{i}") for i in range(3)])
    for host in hosts:
        HostQueryStat.objects.create(host=host, name="pack/it/cheap", executions=10, wall_time_ms=10, user_time=5)
        HostQueryStat.objects.create(
            host=host, name="pack/it/heavy", executions=10, wall_time_ms=90000, user_time=40000, system_time=9000
        )
    HostQueryStat.objects.create(host=hosts[0], name="pack/it/runaway", executions=2, denylisted=True)
    body = admin_client_ui.get("/performance/").content.decode()
    assert body.index("pack/it/runaway") < body.index("pack/it/heavy") < body.index("pack/it/cheap")
    assert "denylisted on 1 host" in body


def test_collector_page_shows_each_destination(admin_client_ui, observer_client, tmp_path):
    destination = Destination.objects.create(name="<splunk>", kind="file", file_path=str(tmp_path / "out.jsonl"))
    for state, count in ((OutboxEvent.State.DELIVERED, 3), (OutboxEvent.State.PENDING, 2), (OutboxEvent.State.DEAD, 1)):
        for i in range(count):
            OutboxEvent.objects.create(
                destination=destination,
                event_id=f"{state}-{i}",
                batch_id=1,
                log_type="result",
                event_time=time.time(),
                body=b"{}",
                size=2,
                state=state,
            )
    ThrottleDrop.objects.create(destination=destination, key="pack/it/noisy", count=7)
    body = admin_client_ui.get("/collector/").content.decode()
    assert "&lt;splunk&gt;" in body
    cells = dict(re.findall(r'data-col="(\w+)"[^>]*>(\d+)<', body))
    assert cells == {"delivered": "3", "failing": "0", "dead": "1", "throttled": "7", "backlog": "2"}
    assert observer_client.get("/collector/").status_code == 200


def test_live_query_launch_validates_and_checks_roles(admin_client_ui, enrolled_mac):
    host = Host.objects.get()
    count = admin_client_ui.get("/live/targets/count", {"platforms": "darwin"}).json()
    assert count == {"count": 1}
    unknown = admin_client_ui.get("/live/targets/count", {"hosts": [host.pk, 99999]})
    assert unknown.status_code == 400 and unknown.json() == {"error": "unknown host(s): 99999"}
    assert admin_client_ui.get("/live/targets/hosts", {"q": "Janes"}).json()["hosts"][0]["id"] == host.pk

    response = admin_client_ui.post("/live/launch", {"sql": "SELECT nme FROM processes", "all": "1"}, follow=True)
    assert "no such column: nme" in response.content.decode()
    assert not Campaign.objects.exists()
    response = admin_client_ui.post("/live/launch", {"sql": "SELECT 1;", "platforms": "windows"}, follow=True)
    assert "Not launched: no hosts targeted" in response.content.decode()

    response = admin_client_ui.post("/live/launch", {"sql": "SELECT * FROM osquery_info;", "hosts": host.pk})
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/live/{campaign.pk}/"
    assert admin_client_ui.post("/live/sql-check", {"sql": "SELECT 1 FROM foo"}).json()["warnings"]

    # Another observer may not read this campaign's results, nor stop it.
    other = make_user("mallory")
    admin_client_ui.force_login(other)
    assert admin_client_ui.get(f"/live/{campaign.pk}/").status_code == 403
    assert admin_client_ui.post(f"/live/{campaign.pk}/stop").status_code == 403
    assert admin_client_ui.post("/live/launch", {"sql": "SELECT 1;", "all": "1"}).status_code == 403
    assert admin_client_ui.post(f"/hosts/{host.pk}/refetch").status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING


def test_dashboard_shows_collector_and_policy_numbers(admin_client_ui, enrolled_mac, vectors):
    status_log = vectors["logger"]["status"]
    assert enrolled_mac.call("log", {"log_type": "status", "data": status_log["data"]}) == {}
    host = Host.objects.get()
    policy = Policy.objects.create(name="<FileVault> on", sql="SELECT 1 FROM disk_encryption WHERE encrypted = 1;")
    PolicyResult.objects.create(policy=policy, host=host, passes=False)
    response = admin_client_ui.get("/")
    assert response.status_code == 200
    assert sum(v for _, v in response.context["events_per_minute"]) == len(status_log["data"])
    assert response.context["policy_failures"][0]["failing"] == 1
    assert "&lt;FileVault&gt; on" in response.content.decode()


def test_static_assets_are_served_without_collectstatic(admin_client_ui):
    for name in ("ui/ui.css", "ui/ui.js", "ui/live.js"):
        response = admin_client_ui.get(f"/static/{name}")
        assert response.status_code == 200, name
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert content == (Path(__file__).resolve().parents[2] / "static" / name).read_bytes()
