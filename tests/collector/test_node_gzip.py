"""`Content-Encoding: gzip` works on every endpoint (osquery compresses logger posts; proxies and
other clients may compress anything)."""

import gzip
import json

import pytest

from collector.models import CarveSession, LogBatch
from hosts.models import Host

from .conftest import ENDPOINTS, body_for, gz


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("prefix", ["/api/osquery", "/api/v1/osquery"])
def test_gzipped_request(enrolled_mac, vectors, endpoint, prefix):
    session_id = ""
    if endpoint == "carve/block":
        enrolled_mac.post("carve/begin", body_for("carve/begin", vectors, enrolled_mac))
        session_id = CarveSession.objects.get().session_id
    enrolled_mac.prefix = prefix

    status, reply = enrolled_mac.post(
        endpoint, raw=gz(body_for(endpoint, vectors, enrolled_mac, session_id)), headers={"Content-Encoding": "gzip"}
    )

    assert status == 200 and "error" not in reply and "node_invalid" not in reply, reply
    if endpoint == "enroll":
        assert reply["node_key"] and Host.objects.count() == 1
    if endpoint == "log":
        assert LogBatch.objects.get().line_count == len(vectors["logger"]["status"]["data"])


def test_gzip_without_the_header_is_recognised(enrolled_mac, vectors):
    # A proxy that drops Content-Encoding must not break intake: the gzip magic is enough.
    body = dict(vectors["logger"]["status"], node_key=enrolled_mac.node_key)

    assert enrolled_mac.post("log", raw=gz(body)) == (200, {})
    assert LogBatch.objects.count() == 1


def test_concatenated_gzip_members(enrolled_mac, vectors):
    raw = json.dumps(dict(vectors["logger"]["status"], node_key=enrolled_mac.node_key)).encode()
    half = len(raw) // 2
    members = gzip.compress(raw[:half]) + gzip.compress(raw[half:])

    assert enrolled_mac.post("log", raw=members, headers={"Content-Encoding": "gzip"}) == (200, {})
    assert LogBatch.objects.count() == 1
