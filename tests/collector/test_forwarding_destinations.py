"""Every real log input goes through intake and arrives at every kind of destination, all
active at once; the receivers count the events."""

import base64
import json
from collections import Counter

import pytest

from collector.models import Destination, OutboxEvent
from hosts.models import Host
from queries.models import Label, LabelMembership, Pack

from .conftest import deliver_all, forward_all, make_destination
from .logdata import all_batches
from .test_log_parse import EXPECTED_EVENTS

TOTAL = sum(EXPECTED_EVENTS.values())


def feed_everything(agent) -> None:
    for label, log_type, lines in all_batches():
        reply = agent.call("log", {"log_type": log_type, "data": lines})
        assert reply == {}, (label, reply)


@pytest.fixture
def packs(db):
    for name in ("Global", "SomePack", "team-1", "team-2", "macos", "Some Pack Name"):
        Pack.objects.create(name=name)


@pytest.mark.django_db(transaction=True)
def test_all_inputs_reach_every_destination_kind_at_once(enrolled_mac, packs, receivers, syslog_ng, tmp_path):
    ndjson = receivers("ndjson", auth="Basic " + base64.b64encode(b"filed:s3cret").decode())
    hec = receivers("hec", auth="Splunk hec-token-1", indexes={"osquery"})
    bulk = receivers("bulk")
    make_destination(
        "file.d",
        "http",
        url=ndjson.url + "/osquery",
        auth="basic",
        username="filed",
        secret="s3cret",
        gzip=True,
        headers={"X-Pipeline": "osquery"},
        batch_max_events=7,
    )
    make_destination(
        "splunk", "splunk_hec", url=hec.url, secret="hec-token-1", hec_index="osquery", batch_max_bytes=4096
    )
    make_destination("elastic", "elasticsearch", url=bulk.url, batch_max_events=10)
    for transport, port in (("tcp", syslog_ng.tcp), ("tls", syslog_ng.tls), ("udp", syslog_ng.udp)):
        make_destination(
            f"syslog-{transport}",
            "syslog",
            syslog_host="127.0.0.1",
            syslog_port=port,
            syslog_transport=transport,
            tls_ca_file=syslog_ng.ca_file,
            batch_max_events=9,
        )
    make_destination(
        "archive", "file", file_path=str(tmp_path / "out" / "events.jsonl"), file_rotate_bytes=20_000, file_keep=50
    )

    feed_everything(enrolled_mac)
    forward_all()
    deliver_all()

    assert OutboxEvent.objects.exclude(state=OutboxEvent.State.DELIVERED).count() == 0, list(
        Destination.objects.values_list("name", "last_error")
    )
    for receiver in (ndjson, hec, bulk):
        assert len(receiver.events) == TOTAL, receiver.mode
        assert not receiver.duplicates()
        assert not receiver.refused
    assert ndjson.headers_seen[0]["X-Pipeline"] == "osquery"
    assert ndjson.headers_seen[0]["Content-Encoding"] == "gzip"

    messages = syslog_ng.wait_for(3 * TOTAL)
    per_source = Counter(m["SOURCE"] for m in messages)
    assert per_source == {"s_tcp": TOTAL, "s_tls": TOTAL, "s_udp": TOTAL}
    for source in ("s_tcp", "s_tls", "s_udp"):
        ids = [m["_SDATA"]["fleetweb@32473"]["event_id"] for m in messages if m["SOURCE"] == source]
        assert len(set(ids)) == TOTAL

    files = sorted((tmp_path / "out").iterdir())
    assert len(files) > 1, "the small rotate size must have rotated the file"
    lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert len(lines) == TOTAL and len({d["event_id"] for d in lines}) == TOTAL

    # Every destination got the same event ids: a receiver can drop duplicates across retries.
    assert set(ndjson.event_ids()) == set(hec.event_ids()) == set(bulk.event_ids()) == {d["event_id"] for d in lines}


@pytest.mark.django_db(transaction=True)
def test_events_are_shaped_per_protocol_and_enriched(enrolled_mac, packs, receivers, syslog_ng):
    host = Host.objects.get()
    label = Label.objects.create(name="Engineering laptops", membership=Label.Membership.MANUAL)
    LabelMembership.objects.create(label=label, host=host)
    host.enroll_secret.team = "blue"
    host.enroll_secret.save()
    hec = receivers("hec", auth="Splunk t")
    bulk = receivers("bulk")
    make_destination("splunk", "splunk_hec", url=hec.url, secret="t", hec_sourcetype="osquery:{log_type}")
    make_destination("elastic", "elasticsearch", url=bulk.url, es_index="osquery-{log_type}-%Y.%m.%d")
    make_destination("syslog", "syslog", syslog_host="127.0.0.1", syslog_port=syslog_ng.tcp)

    lines = dict((label, lines) for label, _, lines in all_batches())["result_event_format_first_run"]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    forward_all()
    deliver_all()

    envelope = hec.events[0]
    assert envelope["time"] == 1717430412
    assert envelope["sourcetype"] == "osquery:result" and envelope["source"] == "osquery"
    assert envelope["host"] == host.hostname
    event = envelope["event"]
    assert (event["pack"], event["query"], event["action"]) == ("macos", "processes", "added")
    assert event["columns"]["path"] == "/sbin/launchd"
    assert event["decorations"]["host_uuid"] == "4C2A9E1B-7D3F-5A8E-9B61-2F0C3D4E5A6B"
    assert event["host"]["labels"] == ["Engineering laptops"]
    assert event["host"]["team"] == "blue" and event["host"]["enroll_secret"] == "default"
    assert event["host"]["uuid"] == host.uuid and event["host"]["platform"] == host.platform

    doc = bulk.events[0]
    assert doc["_index"] == "osquery-result-2024.06.03"
    assert doc["_id"] == doc["event_id"] == envelope["fields"]["event_id"]

    (message, _) = syslog_ng.wait_for(2)
    assert message["PROGRAM"] == "fleetweb" and message["MSGID"] == "result" and message["FACILITY"] == "local0"
    assert message["HOST"] == host.hostname
    assert message["_SDATA"]["fleetweb@32473"]["name"] == "pack_macos_processes"
    assert json.loads(message["MESSAGE"])["columns"]["name"] == "launchd"


@pytest.mark.django_db(transaction=True)
def test_routing_filters_shapes_and_rules(enrolled_mac, packs, receivers):
    only_status = receivers("ndjson")
    processes_only = receivers("ndjson")
    raw = receivers("ndjson")
    make_destination("status", "http", url=only_status.url, log_types=["status"])
    make_destination(
        "processes",
        "http",
        url=processes_only.url,
        log_types=["result"],
        include_queries="pack_macos_*\nsystem_info",
        exclude_queries="*es_process_events",
        drop_fields=["decorations", "columns.cmdline"],
        mask_fields=[
            {"field": "columns.path", "regex": "^/Applications/[^/]+", "replacement": "APP"},
            {"field": "hostIdentifier"},
        ],
        enrich=False,
    )
    make_destination(
        "raw", "http", url=raw.url, shape="raw", drop_fields=["host.serial"], mask_fields=[{"field": "host.uuid"}]
    )

    feed_everything(enrolled_mac)
    forward_all()
    deliver_all()

    statuses = [e for label, t, lines in all_batches() if t == "status" for e in lines]
    assert len(only_status.events) == len(statuses) == 12
    assert {e["log_type"] for e in only_status.events} == {"status"}
    assert {e["severity_name"] for e in only_status.events} == {"INFO", "WARNING", "ERROR"}

    names = Counter(e["name"] for e in processes_only.events)
    # system_info matches the bare query name of pack/Global/system_info (2 lines) and of kolide's
    # unpacked system_info (1 line); es_process_events is excluded.
    assert names == {
        "pack_macos_processes": 8,
        "pack_macos_users": 4,
        "pack_macos_apps": 2,
        "pack_macos_sip": 9,
        "pack/Global/system_info": 2,
        "system_info": 1,
    }
    for event in processes_only.events:
        assert "decorations" not in event and "cmdline" not in event["columns"] and "host" not in event
        assert event["hostIdentifier"] in (None, "********")
        assert not str(event["columns"].get("path", "")).startswith("/Applications/")
    assert any(str(e["columns"].get("path", "")).startswith("APP/") for e in processes_only.events)

    total_lines = sum(len(lines) for _, _, lines in all_batches())
    assert len(raw.events) == total_lines
    assert all("line" in e for e in raw.events)
    # Rules reach the enrichment too, per destination: the others still get the host's serial.
    assert all("serial" not in e["host"] and e["host"]["uuid"] == "********" for e in raw.events)
    assert all("serial" in e["host"] for e in only_status.events)


@pytest.mark.django_db(transaction=True)
def test_intake_hook_forwards_after_commit_without_explicit_calls(enrolled_mac, receivers):
    """The real path: intake commits, on_commit enqueues forwarding, which enqueues delivery
    (Celery runs eagerly in tests)."""
    ndjson = receivers("ndjson")
    make_destination("siem", "http", url=ndjson.url)
    lines = dict((label, lines) for label, _, lines in all_batches())["result_snapshot_format"]
    assert enrolled_mac.call("log", {"log_type": "result", "data": lines}) == {}
    assert len(ndjson.events) == 5
    assert Destination.objects.get().last_success_at is not None
