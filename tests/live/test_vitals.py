import time

import pytest
from django.utils import timezone

from hosts.inventory.models import HostDetails, HostInterface, HostQueryStat, HostSoftware, HostUser
from hosts.inventory.services import host_config_applied, host_refetch, query_performance
from hosts.models import Host
from hosts.status import HostStatus, host_status
from queries.agent_config import config_hash
from tests.agent_sim import SimAgent, mac_tables, ubuntu_tables, windows_tables


def _enrolled(client, maker, index=0):
    request, tables = maker(index)
    agent = SimAgent(client, request, tables)
    assert "node_key" in agent.enroll()
    return agent


def _detail_ids(work):
    return {q for q in work.get("queries", {}) if q.startswith("fleetweb_detail_")}


@pytest.mark.django_db
def test_mac_vitals_after_enroll(client, enroll_secret):
    agent = _enrolled(client, mac_tables, 7)
    work = agent.checkin()
    # Asked at once after enroll, with accelerated check-ins for the new host.
    assert "fleetweb_detail_system_info" in work["queries"]
    assert "fleetweb_detail_software_homebrew" in work["discovery"]
    assert work["accelerate"] == 60
    host = Host.objects.get()
    assert host.hostname == "mac-007.corp.example"
    assert host.hardware_serial == "C7QX2L0007"
    assert (host.os_name, host.os_version, host.os_build) == ("macOS", "14.5", "23F79")
    assert (host.primary_ip, host.primary_mac) == ("192.168.1.17", "a4:83:e7:1b:2c:3d")
    details = HostDetails.objects.get(host=host)
    assert details.cpu_brand == "Apple M2 Pro"
    assert details.physical_memory == 17179869184
    assert details.uptime_seconds == 183845
    assert (details.distributed_interval, details.config_tls_refresh) == (10, 60)
    assert details.disk_bytes_total == 121960287 * 4096
    assert details.disk_percent_available == 50.0
    assert (details.disk_encrypted, details.sip_enabled, details.gatekeeper_enabled, details.firewall_enabled) == (
        True,
        True,
        True,
        True,
    )
    assert list(HostUser.objects.values_list("username", flat=True)) == ["jane"]
    assert set(HostSoftware.objects.values_list("name", "source")) == {
        ("Safari.app", "apps"),
        ("Slack.app", "apps"),
        ("jq", "homebrew_packages"),
    }
    assert set(HostInterface.objects.values_list("address", flat=True)) >= {"127.0.0.1", "192.168.1.17"}
    stats = {s.name: s for s in HostQueryStat.objects.all()}
    assert stats["pack_macos_processes"].executions == 12
    assert stats["pack/it-compliance/file_hashes"].denylisted is True


@pytest.mark.django_db
def test_ubuntu_and_windows_vitals(client, enroll_secret):
    ubuntu = _enrolled(client, ubuntu_tables, 3)
    windows = _enrolled(client, windows_tables, 1)
    ubuntu_work = ubuntu.checkin()
    windows_work = windows.checkin()
    assert "fleetweb_detail_sip" not in ubuntu_work["queries"]
    assert "fleetweb_detail_software_windows" in windows_work["queries"]
    linux = Host.objects.get(platform="linux")
    assert linux.hostname == "build-runner-003"
    assert linux.primary_ip == "10.20.0.4"  # the default-route interface, not docker0
    assert linux.os_name == "Ubuntu"
    assert HostDetails.objects.get(host=linux).disk_encrypted is True
    assert HostDetails.objects.get(host=linux).config_tls_refresh == 300  # config_refresh fallback
    assert set(HostUser.objects.filter(host=linux).values_list("username", flat=True)) == {"root", "ci"}
    assert set(HostSoftware.objects.filter(host=linux).values_list("source", flat=True)) == {"deb_packages"}
    win = Host.objects.get(platform="windows")
    assert win.hardware_serial == ""  # "Default string" is firmware junk, not a serial
    assert win.os_name == "Microsoft Windows 11 Enterprise"
    assert (win.primary_ip, win.primary_mac) == ("10.8.0.11", "3c:52:82:11:22:33")
    win_details = HostDetails.objects.get(host=win)
    assert win_details.disk_encrypted is True
    assert win_details.disk_bytes_available == 123456789012
    assert win_details.sip_enabled is None
    assert set(HostUser.objects.filter(host=win).values_list("username", flat=True)) == {"Administrator", "alex"}
    assert set(HostSoftware.objects.filter(host=win).values_list("name", flat=True)) == {"Google Chrome", "osquery"}


@pytest.mark.django_db
def test_not_asked_again_until_due_or_refetch(client, enroll_secret):
    agent = _enrolled(client, ubuntu_tables)
    assert _detail_ids(agent.checkin())
    assert not _detail_ids(agent.checkin())
    host_refetch(host=Host.objects.get())
    refetched = agent.checkin()
    assert _detail_ids(refetched)
    assert "accelerate" not in refetched  # only hosts that never reported are accelerated


@pytest.mark.django_db
def test_query_performance_report(client, enroll_secret):
    for i, maker in enumerate((mac_tables, ubuntu_tables, windows_tables)):
        _enrolled(client, maker, i).checkin()
    report = {r["name"]: r for r in query_performance()}
    assert report["pack_macos_processes"]["hosts"] == 3
    assert report["pack_macos_processes"]["avg_wall_time_ms"] == round(1844 / 12, 1)
    assert report["pack/it-compliance/file_hashes"]["denylisted_hosts"] == 2
    assert query_performance()[0]["name"] == "pack/it-compliance/file_hashes"


@pytest.mark.django_db
def test_config_applied_compares_hashes(client, enroll_secret):
    agent = _enrolled(client, ubuntu_tables)
    body = agent.api.client.post(
        "/api/osquery/config", {"node_key": agent.node_key}, content_type="application/json"
    ).content
    host = Host.objects.get()
    assert host.config_hash_served == config_hash(body)
    assert host_config_applied(host) is None
    info = dict(agent.run_sql("SELECT * FROM osquery_info")[0][0], config_hash=config_hash(body), config_valid="1")
    agent.table("osquery_info", [info])
    agent.checkin()
    host.refresh_from_db()
    assert host_config_applied(host) is True
    Host.objects.filter(pk=host.pk).update(config_hash_served="0" * 40)
    host.refresh_from_db()
    assert host_config_applied(host) is False


@pytest.mark.django_db
def test_status_uses_reported_intervals(client, enroll_secret):
    agent = _enrolled(client, ubuntu_tables)
    agent.checkin()  # reports distributed_interval 30, config_refresh 300
    host = Host.objects.get()
    now = timezone.now()
    Host.objects.filter(pk=host.pk).update(last_seen_at=now - timezone.timedelta(seconds=85))
    from fleetweb.redis import get_redis

    get_redis().delete("lastseen")
    host.refresh_from_db()
    assert host_status(host, now) == HostStatus.ONLINE  # 85 s < 30 + 60
    assert host_status(host, now + timezone.timedelta(seconds=10)) == HostStatus.OFFLINE
    assert host_status(host, now + timezone.timedelta(days=31)) == HostStatus.MISSING
    get_redis().hset("lastseen", str(host.pk), int(time.time()))
    assert host_status(host, timezone.now()) == HostStatus.ONLINE  # unflushed check-ins count


@pytest.mark.django_db
def test_reenroll_asks_vitals_again(client, enroll_secret, django_capture_on_commit_callbacks):
    agent = _enrolled(client, ubuntu_tables)
    agent.checkin()
    assert not _detail_ids(agent.checkin())
    with django_capture_on_commit_callbacks(execute=True):
        assert "node_key" in agent.enroll()  # reinstalled agent, same hardware
    again = agent.checkin()
    assert _detail_ids(again) and again["accelerate"] == 60
    assert Host.objects.count() == 1


@pytest.mark.django_db
def test_status_summary(client, enroll_secret):
    from hosts.status import host_status_summary

    for i, maker in enumerate((mac_tables, ubuntu_tables, windows_tables)):
        _enrolled(client, maker, i)
    now = timezone.now()
    mac, linux, win = (Host.objects.get(platform=p) for p in ("darwin", "linux", "windows"))
    Host.objects.filter(pk=linux.pk).update(last_seen_at=now - timezone.timedelta(hours=1))
    Host.objects.filter(pk=win.pk).update(
        last_seen_at=now - timezone.timedelta(days=40), enrolled_at=now - timezone.timedelta(days=90)
    )
    assert host_status_summary(now) == {"online": 1, "offline": 1, "missing": 1, "new": 2, "total": 3}
