"""Enrollment over the agent API: secrets, host details, identity on re-enroll, key rotation."""

import copy
import json

import pytest
from django.test import Client

from hosts.models import EnrollSecret, Host, Platform
from hosts.services import host_delete
from tests.conftest import AgentClient


def _machine(vectors, *, uuid: str, hostname: str, serial: str) -> dict:
    """The macOS vector as sent by another machine."""
    request = copy.deepcopy(vectors["enroll"]["request_macos"])
    request["host_identifier"] = hostname
    details = request["host_details"]
    details["system_info"].update(uuid=uuid, hostname=hostname, hardware_serial=serial)
    details["osquery_info"]["uuid"] = uuid
    return request


def test_macos_enroll_stores_host_details(agent, enroll_secret, vectors):
    reply = agent.enroll(vectors["enroll"]["request_macos"])

    assert set(reply) == {"node_key"}
    assert isinstance(reply["node_key"], str) and len(reply["node_key"]) >= 32
    host = Host.objects.get()
    assert host.hostname == "Janes-MacBook-Pro.local"
    assert host.host_identifier == "Janes-MacBook-Pro.local"
    assert host.uuid == "4C2A9E1B-7D3F-5A8E-9B61-2F0C3D4E5A6B"
    assert host.hardware_serial == "C7QX2LM9PV"
    assert host.hardware_model == "Mac14,9"
    assert host.hardware_vendor == "Apple Inc."
    assert (host.os_name, host.os_version, host.os_build) == ("macOS", "14.5", "23F79")
    assert host.osquery_version == "5.23.1"
    assert host.platform == Platform.DARWIN
    assert host.platform_type == 21
    assert host.enroll_secret == enroll_secret
    # Only a digest of the key is stored.
    assert reply["node_key"] not in (host.node_key_hash or "")


def test_linux_minimal_enroll(agent, enroll_secret, vectors):
    reply = agent.enroll(vectors["enroll"]["request_linux_minimal"])

    assert "node_key" in reply and "error" not in reply
    host = Host.objects.get()
    assert host.hostname == "build-runner-07"
    assert host.uuid == "9f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    assert host.hardware_serial == "7XK2Q93"
    assert host.hardware_model == "PowerEdge R650"
    assert host.os_name == "Ubuntu"
    assert host.os_version == "22.04.4 LTS (Jammy Jellyfish)"
    assert host.os_build == ""
    assert host.platform == Platform.LINUX
    assert host.platform_type == 9


def test_enroll_details_reach_the_agent_endpoints(agent, enroll_secret, vectors):
    agent.enroll(vectors["enroll"]["request_linux_minimal"])
    assert "error" not in agent.call("config")


def test_reenroll_matches_the_host_and_rotates_the_key(agent, enroll_secret, vectors):
    first = agent.enroll(vectors["enroll"]["request_macos"])["node_key"]
    host_id = Host.objects.get().id

    second = agent.enroll(vectors["enroll"]["request_macos"])["node_key"]

    assert second != first
    assert list(Host.objects.values_list("id", flat=True)) == [host_id]
    _, old = agent.post("config", {"node_key": first})
    assert old["node_invalid"] is True
    _, new = agent.post("config", {"node_key": second})
    assert "error" not in new and "node_invalid" not in new


def test_reenroll_with_less_detail_keeps_what_is_known(agent, enroll_secret, vectors):
    agent.enroll(vectors["enroll"]["request_macos"])
    sparse = copy.deepcopy(vectors["enroll"]["request_macos"])
    del sparse["host_details"]["platform_info"]
    sparse["host_details"]["system_info"] = {"uuid": "4C2A9E1B-7D3F-5A8E-9B61-2F0C3D4E5A6B"}

    assert "node_key" in agent.enroll(sparse)

    host = Host.objects.get()
    assert host.hardware_serial == "C7QX2LM9PV"
    assert host.hardware_model == "Mac14,9"


def test_same_hostname_different_uuids_stay_two_hosts(agent, enroll_secret, vectors):
    agent.enroll(_machine(vectors, uuid="11111111-2222-3333-4444-555555555555", hostname="mac", serial="A1"))
    agent.enroll(_machine(vectors, uuid="66666666-7777-8888-9999-000000000000", hostname="mac", serial="B2"))

    assert Host.objects.filter(hostname="mac").count() == 2


def test_identity_host_identifier_merges_by_identifier(agent, enroll_secret, vectors, settings):
    settings.FLEET = {**settings.FLEET, "ENROLL_IDENTITY": "host_identifier"}
    agent.enroll(_machine(vectors, uuid="11111111-2222-3333-4444-555555555555", hostname="kiosk-1", serial="A1"))
    agent.enroll(_machine(vectors, uuid="66666666-7777-8888-9999-000000000000", hostname="kiosk-1", serial="A1"))

    host = Host.objects.get()
    assert host.uuid == "66666666-7777-8888-9999-000000000000"


def test_without_uuid_the_serial_identifies_the_host(agent, enroll_secret, vectors):
    request = _machine(vectors, uuid="", hostname="old-name", serial="SER-9")
    agent.enroll(request)
    request = _machine(vectors, uuid="", hostname="new-name", serial="SER-9")
    agent.enroll(request)

    host = Host.objects.get()
    assert host.hostname == "new-name"


def test_firmware_placeholder_uuids_do_not_merge_machines(agent, enroll_secret, vectors):
    shared = "03000200-0400-0500-0006-000700080009"
    agent.enroll(_machine(vectors, uuid=shared, hostname="lab-1", serial="L1"))
    agent.enroll(_machine(vectors, uuid=shared, hostname="lab-2", serial="L2"))

    assert sorted(Host.objects.values_list("hostname", flat=True)) == ["lab-1", "lab-2"]


def test_any_active_secret_enrolls_and_the_host_records_which(agent, enroll_secret, vectors):
    servers = EnrollSecret.objects.create(name="servers", secret="servers-secret-Q81v")
    request = dict(vectors["enroll"]["request_linux_minimal"], enroll_secret="servers-secret-Q81v")

    assert "node_key" in agent.enroll(request)

    assert Host.objects.get().enroll_secret == servers


@pytest.mark.parametrize("secret", ["wrong-secret", "", "acme-osquery-enroll-7Gq2Z", "acme-osquery-enroll-7Gq2Zp "])
def test_wrong_secret_creates_nothing(agent, enroll_secret, vectors, secret):
    status, reply = agent.post("enroll", dict(vectors["enroll"]["request_macos"], enroll_secret=secret))

    assert "node_key" not in reply and "id" not in reply
    assert reply["node_invalid"] is True and reply["error"]
    assert status == 401
    assert not Host.objects.exists()


def test_revoked_secret_stops_new_enrolls_but_not_enrolled_hosts(agent, enroll_secret, vectors):
    enrolled = AgentClient(Client())
    enrolled.enroll(vectors["enroll"]["request_linux_minimal"])
    enroll_secret.is_active = False
    enroll_secret.save()

    _, reply = agent.post("enroll", vectors["enroll"]["request_macos"])

    assert "node_key" not in reply and reply["node_invalid"] is True
    assert Host.objects.count() == 1
    assert "error" not in enrolled.call("config")


def test_secret_in_the_query_string(agent, enroll_secret, vectors):
    # --tls_secret_always adds ?enroll_secret=...; the body still carries the key (maybe empty).
    request = dict(vectors["enroll"]["request_macos"], enroll_secret="")
    agent.prefix = "/api/osquery"
    status, reply = agent.post(f"enroll?enroll_secret={enroll_secret.secret}", request)

    assert status == 200 and "node_key" in reply


def test_missing_host_identifier_falls_back_to_uuid(agent, enroll_secret, vectors):
    request = dict(vectors["enroll"]["request_linux_minimal"], host_identifier="")

    assert "node_key" in agent.enroll(request)
    assert Host.objects.get().host_identifier == "9f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def test_deleted_host_reenrolls_cleanly(agent, enroll_secret, vectors, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        agent.enroll(vectors["enroll"]["request_macos"])
    old_key = agent.node_key
    assert "error" not in agent.call("config")  # the key is cached now
    host = Host.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        host_delete(host=host)

    _, reply = agent.post("config", {"node_key": old_key})
    assert reply["node_invalid"] is True
    _, reply = agent.post("distributed/read", {}, headers={"Authorization": f"NodeKey {old_key}"})
    assert reply["node_invalid"] is True
    with django_capture_on_commit_callbacks(execute=True):
        assert "node_key" in agent.enroll(vectors["enroll"]["request_macos"])
    new_host = Host.objects.get()
    assert new_host.id != host.id
    assert "error" not in agent.call("config")


def test_concurrent_enroll_of_the_same_machine_is_refused(agent, enroll_secret, vectors, monkeypatch):
    # The agent timed out (16 s) and retried while its first enroll is still being written.
    from hosts import services

    inner = services._enroll_locked
    replies = []

    def slow_first_enroll(secret, fields):
        if not replies:
            replies.append(agent.post("enroll", vectors["enroll"]["request_macos"]))
        return inner(secret, fields)

    monkeypatch.setattr(services, "_enroll_locked", slow_first_enroll)

    first = agent.enroll(vectors["enroll"]["request_macos"])

    status, retry = replies[0]
    assert status == 409 and "node_key" not in retry
    assert retry["error"] == "another enrollment of this machine is in progress; retry"
    assert "node_key" in first
    assert Host.objects.count() == 1
    # The lock is gone once the first enroll finished.
    assert "node_key" in agent.enroll(vectors["enroll"]["request_macos"])


@pytest.mark.django_db
def test_placeholder_uuid_from_vitals_does_not_duplicate_the_host(agent, enroll_secret, vectors):
    # Firmware with a placeholder UUID: neither enroll nor the vitals answer may record it, or
    # the next re-enroll would match (or miss) on it.
    from hosts.models import Host

    placeholder = "03000200-0400-0500-0006-000700080009"
    request = json.loads(json.dumps(vectors["enroll"]["request_linux_minimal"]))
    request["enroll_secret"] = enroll_secret.secret
    request["host_identifier"] = "fwbox-1"
    request["host_details"].setdefault("system_info", {}).update(
        {"uuid": placeholder, "hardware_serial": "To Be Filled By O.E.M."}
    )
    assert "node_key" in agent.enroll(request)
    agent.call("distributed/read")
    agent.call(
        "distributed/write",
        {
            "queries": {"fleetweb_detail_system_info": [{"hostname": "fwbox-1", "uuid": placeholder}]},
            "statuses": {"fleetweb_detail_system_info": 0},
        },
    )
    assert "node_key" in agent.enroll(request)
    assert Host.objects.filter(host_identifier="fwbox-1").count() == 1
    assert Host.objects.get(host_identifier="fwbox-1").uuid != placeholder


@pytest.mark.django_db
def test_non_string_details_are_ignored(agent, enroll_secret, vectors):
    from hosts.models import Host

    request = json.loads(json.dumps(vectors["enroll"]["request_macos"]))
    request["enroll_secret"] = enroll_secret.secret
    request["host_details"]["system_info"]["uuid"] = None
    request["host_details"]["system_info"]["hardware_serial"] = {"a": 1}
    assert "node_key" in agent.enroll(request)
    host = Host.objects.get()
    assert host.uuid == request["host_details"]["osquery_info"]["uuid"]  # fell back, not "None"
    assert host.hardware_serial == ""
