"""Fleet compatibility: requests shaped like the examples in Fleet's REST API documentation, and
the response fields a Fleet script reads, checked for presence and JSON type.

Each example below restates the shape of a documented Fleet request/response (field names and
value types; values are ours). A field a script would read must exist in fleetweb's answer with
the same JSON type; `None` in an example means Fleet documents null there.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hosts.models import Host
from queries.models import Label, LabelMembership, Pack, Query

HOST_FIELDS: dict[str, Any] = {
    "id": 1,
    "created_at": "2024-01-01T00:00:00Z",
    "last_enrolled_at": "2024-01-01T00:00:00Z",
    "seen_time": "2024-01-01T00:00:00Z",
    "hostname": "host.local",
    "uuid": "UUID",
    "platform": "darwin",
    "osquery_version": "5.12.1",
    "os_version": "macOS 14.4",
    "build": "23E214",
    "platform_like": "darwin",
    "hardware_vendor": "Apple Inc.",
    "hardware_model": "MacBookPro18,3",
    "hardware_serial": "SERIAL",
    "computer_name": "Host",
    "display_name": "Host",
    "primary_ip": "10.0.0.2",
    "primary_mac": "aa:bb:cc:dd:ee:ff",
    "distributed_interval": 10,
    "config_tls_refresh": 10,
    "logger_tls_period": 10,
    "status": "online",
    "team_id": None,
    "team_name": None,
}
HOST_DETAIL_FIELDS = {
    **HOST_FIELDS,
    "labels": [
        {
            "id": 1,
            "name": "All Hosts",
            "description": "",
            "query": "SELECT 1;",
            "label_type": "builtin",
            "label_membership_type": "dynamic",
        }
    ],
    "packs": [{"id": 1, "name": "pack", "description": "", "disabled": False}],
    "policies": [],
}
QUERY_FIELDS = {
    "id": 1,
    "name": "q",
    "description": "",
    "query": "SELECT 1;",
    "team_id": None,
    "interval": 0,
    "platform": "",
    "min_osquery_version": "",
    "logging": "snapshot",
    "observer_can_run": False,
    "saved": True,
    "packs": [],
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z",
}
PACK_FIELDS = {
    "id": 1,
    "name": "p",
    "description": "",
    "platform": "",
    "disabled": False,
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z",
}
SCHEDULED_FIELDS = {
    "id": 1,
    "pack_id": 1,
    "name": "q",
    "query_id": 1,
    "query_name": "q",
    "query": "SELECT 1;",
    "interval": 60,
    "snapshot": False,
    "removed": True,
    "platform": "",
    "version": "",
    "shard": None,
    "denylist": True,
}
LABEL_FIELDS = {
    "id": 1,
    "name": "l",
    "description": "",
    "query": "SELECT 1;",
    "platform": "",
    "label_type": "regular",
    "label_membership_type": "dynamic",
    "display_text": "l",
    "count": 0,
    "host_ids": None,
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z",
}
SYNC_QUERY_FIELDS = {"host_id": 1, "query": "SELECT 1;", "status": "offline", "error": None, "rows": []}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def assert_fleet_shape(actual: dict[str, Any], example: dict[str, Any], where: str) -> None:
    for key, sample in example.items():
        assert key in actual, f"{where}: missing field {key!r}"
        if sample is None:
            continue
        assert json_type(actual[key]) == json_type(sample), f"{where}.{key}: {actual[key]!r} is not {json_type(sample)}"
        if isinstance(sample, list) and sample and isinstance(sample[0], dict):
            assert actual[key], f"{where}.{key}: expected items to compare"
            assert_fleet_shape(actual[key][0], sample[0], f"{where}.{key}[0]")


@pytest.fixture
def fleet_world(db):
    host = Host.objects.create(
        host_identifier="HID",
        hostname="host.local",
        uuid="UUID-1",
        hardware_serial="SERIAL-1",
        platform="darwin",
        os_name="macOS",
        os_version="14.4",
        osquery_version="5.12.1",
        last_seen_at=timezone.now(),
    )
    label = Label.objects.create(name="All Hosts", sql="SELECT 1;", builtin_platform="all")
    query = Query.objects.create(name="uptime", sql="SELECT * FROM uptime;")
    pack = Pack.objects.create(name="base")
    pack.target_labels.add(label)
    manual = Label.objects.create(name="Canaries", membership=Label.Membership.MANUAL)
    LabelMembership.objects.create(label=manual, host=host)
    return {"host": host, "query": query, "pack": pack}


def test_list_hosts(admin_api, fleet_world):
    status, body = admin_api.get("hosts", page=0, per_page=100, order_key="hostname", order_direction="asc")
    assert status == 200
    assert_fleet_shape(body["hosts"][0], HOST_FIELDS, "hosts[0]")


def test_list_hosts_search_and_filters(admin_api, fleet_world):
    for term in ("host.lo", "UUID-1", "SERIAL-1"):
        assert [h["hostname"] for h in admin_api.get("hosts", query=term)[1]["hosts"]] == ["host.local"]
    assert admin_api.get("hosts", status="online")[1]["hosts"]
    assert admin_api.get("hosts", status="offline")[1]["hosts"] == []
    assert admin_api.get("hosts", platform="windows")[1]["hosts"] == []
    assert admin_api.get("hosts/count")[1] == {"count": 1}


def test_get_host_and_by_identifier(admin_api, fleet_world):
    host = fleet_world["host"]
    status, body = admin_api.get(f"hosts/{host.pk}")
    assert status == 200
    assert_fleet_shape(body["host"], HOST_DETAIL_FIELDS, "host")
    for identifier in ("host.local", "UUID-1", "SERIAL-1", "HID"):
        status, body = admin_api.get(f"hosts/identifier/{identifier}")
        assert status == 200 and body["host"]["id"] == host.pk
        assert_fleet_shape(body["host"], HOST_DETAIL_FIELDS, "host")


def test_queries_create_list_get_modify_delete(admin_api, fleet_world):
    status, body = admin_api.post(
        "queries",
        {"name": "new_query", "query": "SELECT * FROM osquery_info;", "description": "Info", "observer_can_run": True},
    )
    assert status == 200
    assert_fleet_shape(body["query"], QUERY_FIELDS, "query")
    query_id = body["query"]["id"]
    assert_fleet_shape(admin_api.get("queries")[1]["queries"][0], QUERY_FIELDS, "queries[0]")
    assert_fleet_shape(admin_api.get(f"queries/{query_id}")[1]["query"], QUERY_FIELDS, "query")
    status, body = admin_api.patch(f"queries/{query_id}", {"description": "changed"})
    assert status == 200 and body["query"]["description"] == "changed"
    assert admin_api.delete(f"queries/id/{query_id}") == (200, {})


def test_packs_and_scheduled_queries(admin_api, fleet_world):
    status, body = admin_api.post(
        "packs", {"name": "my_pack", "description": "", "host_ids": [], "label_ids": [], "team_ids": []}
    )
    assert status == 200
    assert_fleet_shape(body["pack"], PACK_FIELDS, "pack")
    pack_id = body["pack"]["id"]
    status, body = admin_api.post(
        "packs/schedule",
        {
            "pack_id": pack_id,
            "query_id": fleet_world["query"].pk,
            "interval": 120,
            "snapshot": True,
            "removed": False,
            "shard": 10,
        },
    )
    assert status == 200, body
    assert_fleet_shape(body["scheduled"], SCHEDULED_FIELDS, "scheduled")
    assert body["scheduled"]["snapshot"] is True and body["scheduled"]["shard"] == 10
    status, body = admin_api.get(f"packs/{pack_id}/scheduled")
    assert_fleet_shape(body["scheduled"][0], SCHEDULED_FIELDS, "scheduled[0]")
    assert_fleet_shape(admin_api.get("packs")[1]["packs"][0], PACK_FIELDS, "packs[0]")


def test_labels(admin_api, fleet_world):
    status, body = admin_api.post(
        "labels",
        {
            "name": "Ubuntu hosts",
            "description": "",
            "query": "SELECT 1 FROM os_version WHERE platform = 'ubuntu';",
            "platform": "",
        },
    )
    assert status == 200, body
    assert_fleet_shape(body["label"], LABEL_FIELDS, "label")
    assert_fleet_shape(admin_api.get("labels")[1]["labels"][0], LABEL_FIELDS, "labels[0]")
    all_hosts = Label.objects.get(name="All Hosts")
    status, body = admin_api.get(f"labels/{all_hosts.pk}/hosts")
    assert status == 200
    assert_fleet_shape(body["hosts"][0], HOST_FIELDS, "hosts[0]")


def test_sync_host_query_offline_host(admin_api, fleet_world, settings):
    host = fleet_world["host"]
    Host.objects.filter(pk=host.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    status, body = admin_api.post(f"hosts/{host.pk}/query", {"query": "SELECT 1;"})
    assert status == 200
    assert_fleet_shape(body, SYNC_QUERY_FIELDS, "result")
    assert body["status"] == "offline" and body["rows"] == []
    status, body = admin_api.post("hosts/identifier/UUID-1/query", {"query": "SELECT 1;"})
    assert status == 200 and body["host_id"] == host.pk
    status, body = admin_api.post(f"hosts/{host.pk}/query", {"query": ""})
    assert status == 422
