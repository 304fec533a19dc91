import gzip
import json

from collector.models import LogBatch
from collector.services.logs import log_batch_lines


def test_enroll_config_log_roundtrip(enrolled_mac, vectors):
    config = enrolled_mac.call("config")
    assert "error" not in config
    assert "options" in config
    body = vectors["logger"]["result_event_format_first_run"]
    reply = enrolled_mac.call("log", {k: v for k, v in body.items() if k != "node_key"})
    assert reply == {}
    batch = LogBatch.objects.get()
    assert log_batch_lines(batch) == body["data"]


def test_gzip_log(enrolled_mac, vectors):
    body = dict(vectors["logger"]["status"], node_key=enrolled_mac.node_key)
    status, reply = enrolled_mac.post(
        "log", raw=gzip.compress(json.dumps(body).encode()), headers={"Content-Encoding": "gzip"}
    )
    assert reply == {}, reply
    assert LogBatch.objects.get().line_count == len(body["data"])
