"""Sender details: TLS verification, size caps, file rotation, HEC refusals."""

import subprocess

import pytest

from collector.forwarding.senders import Outgoing, sender_for
from collector.forwarding.senders.syslog import format_message
from collector.models import Destination


def event(i: int = 1, body: bytes | None = None, **kw) -> Outgoing:
    body = body or b'{"event_id":"e%d","log_type":"result"}' % i
    fields = dict(
        id=i,
        event_id=f"e{i}",
        log_type="result",
        hostname="web-01",
        query_name="pack/p/q",
        event_time=1717430412.5,
        body=body,
    )
    fields.update(kw)
    return Outgoing(**fields)


def send(destination: Destination, events: list[Outgoing]):
    with sender_for(destination) as sender:
        return sender.send(events)


@pytest.fixture
def cert(tmp_path):
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")


def test_https_receiver_verification_options(receivers, cert):
    siem = receivers("ndjson", tls=cert, auth="Bearer tok")
    base = dict(kind="http", url=siem.url, auth="bearer", secret="tok", timeout_seconds=5)
    trusted = send(Destination(**base, tls_ca_file=cert[0]), [event(1)])
    assert trusted.delivered == [1]
    untrusted = send(Destination(**base), [event(2)])
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.retry[2]
    unverified = send(Destination(**base, tls_verify=False), [event(3)])
    assert unverified.delivered == [3]
    assert siem.event_ids() == ["e1", "e3"]


def test_syslog_tls_verification_and_size_cap(syslog_ng):
    base = dict(
        kind="syslog", syslog_host="127.0.0.1", syslog_port=syslog_ng.tls, syslog_transport="tls", timeout_seconds=5
    )
    refused = send(Destination(**base), [event(1)])
    assert "CERTIFICATE_VERIFY_FAILED" in refused.retry[1]
    ok = send(
        Destination(**base, tls_ca_file=syslog_ng.ca_file, syslog_max_message_bytes=300),
        [event(2), event(3, body=b'{"x":"' + b"a" * 400 + b'"}'), event(4)],
    )
    assert ok.delivered == [2, 4] and "the limit is 300" in ok.failed[3]
    messages = syslog_ng.wait_for(2)
    assert [m["_SDATA"]["fleetweb@32473"]["event_id"] for m in messages] == ["e2", "e4"]


def test_syslog_message_format_escapes_structured_data():
    message = format_message(
        event(query_name='pack/p/q "x" ]\\', log_type="status", severity=2), app_name="fleet web", facility=16
    ).decode()
    assert message.startswith("<131>1 2024-06-03T16:00:12.500Z web-01 fleetweb - status [fleetweb@32473 ")
    assert 'name="pack/p/q \\"x\\" \\]\\\\"' in message


def test_file_rotation_keeps_the_configured_number_of_files(tmp_path):
    destination = Destination(kind="file", file_path=str(tmp_path / "out.jsonl"), file_rotate_bytes=100, file_keep=2)
    for i in range(6):
        assert send(destination, [event(i, body=b'{"n":%d,"pad":"%s"}' % (i, b"x" * 60))]).delivered == [i]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["out.jsonl", "out.jsonl.1", "out.jsonl.2"]
    assert b'"n":5' in (tmp_path / "out.jsonl").read_bytes()


def test_hec_refusals_are_permanent_and_busy_is_retried(receivers):
    hec = receivers("hec", auth="Splunk t", indexes={"main"})
    wrong_index = send(Destination(kind="splunk_hec", url=hec.url, secret="t", hec_index="other"), [event()])
    assert "code 7" in wrong_index.failed[1]
    hec.scripted = [503]
    busy = send(Destination(kind="splunk_hec", url=hec.url, secret="t", hec_index="main"), [event()])
    assert "code 9" in busy.retry[1]


@pytest.mark.parametrize("mode", ["ndjson", "hec", "bulk"])
def test_too_large_batches_are_split_and_an_oversize_event_dead_letters(receivers, mode):
    receiver = receivers(mode, max_bytes=700, auth=None)
    kind = {"ndjson": "http", "hec": "splunk_hec", "bulk": "elasticsearch"}[mode]
    events = [event(i, body=b'{"event_id":"e%d","pad":"%s"}' % (i, b"x" * 100)) for i in range(1, 9)]
    events.append(event(9, body=b'{"event_id":"e9","pad":"%s"}' % (b"y" * 900)))
    result = send(Destination(kind=kind, url=receiver.url, secret="t"), events)
    assert sorted(result.delivered) == list(range(1, 9))
    assert list(result.failed) == [9] and "413" in result.failed[9]
    assert sorted(receiver.event_ids()) == sorted(f"e{i}" for i in range(1, 9))
    assert {status for status, _ in receiver.refused} == {413}


def test_hec_bad_event_is_isolated_and_the_rest_delivered(receivers):
    hec = receivers("hec", auth="Splunk t")
    events = [event(i) for i in range(1, 8)]
    events[4] = event(5, body=b"{}")  # HEC refuses a blank event (code 13) and the whole request
    result = send(Destination(kind="splunk_hec", url=hec.url, secret="t"), events)
    assert sorted(result.delivered) == [1, 2, 3, 4, 6, 7]
    assert list(result.failed) == [5] and "code 13" in result.failed[5]
    assert sorted(hec.event_ids()) == ["e1", "e2", "e3", "e4", "e6", "e7"]
