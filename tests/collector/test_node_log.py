"""The logger endpoint: every result and status shape is stored before `{}` is replied."""

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collector.models import LogBatch
from collector.services.logs import log_batch_lines
from tests.conftest import REALWORLD

from .conftest import gz, without_node_key

LOGGER_SHAPES = [
    "result_event_format_first_run",
    "result_event_format_differential",
    "result_event_format_numerics",
    "result_event_format_decorations_top_level",
    "result_event_table_first_run_counter_starts_at_1",
    "result_batch_format",
    "result_batch_format_first_run",
    "result_snapshot_format",
    "result_snapshot_format_empty",
    "result_snapshot_as_events",
    "result_mixed_batch_of_lines",
    "status",
    "status_without_decorations",
]


def test_every_logger_vector_is_covered(vectors):
    bodies = {name for name, body in vectors["logger"].items() if isinstance(body, dict) and "log_type" in body}
    assert bodies == set(LOGGER_SHAPES)


@pytest.mark.parametrize("shape", LOGGER_SHAPES)
def test_logger_shape_is_stored(enrolled_mac, vectors, shape):
    body = without_node_key(vectors["logger"][shape])

    status, reply = enrolled_mac.post("log", dict(body, node_key=enrolled_mac.node_key))

    assert (status, reply) == (200, {})
    batch = LogBatch.objects.get()
    assert batch.log_type == body["log_type"]
    assert batch.line_count == len(body["data"])
    assert log_batch_lines(batch) == body["data"]
    assert batch.host_identifier == "Janes-MacBook-Pro.local"


def test_compressed_logger_post_as_sent_by_the_agent(enrolled_mac, vectors):
    wire = vectors["logger"]["result_event_format_differential_gzip"]
    headers = dict(wire["headers"], Authorization=f"NodeKey {enrolled_mac.node_key}")
    headers.pop("Content-Type")
    headers.pop("Host")
    raw = base64.b64decode(wire["body_gzip_base64"])

    # The gzipped body names the vector's node key; the header (5.23+) names ours and wins.
    status, reply = enrolled_mac.post("log", raw=raw, headers=headers)

    assert (status, reply) == (200, {})
    assert log_batch_lines(LogBatch.objects.get()) == vectors["logger"]["result_event_format_differential"]["data"]


def test_empty_data_is_accepted_and_stores_nothing(enrolled_mac):
    assert enrolled_mac.call("log", {"log_type": "result", "data": []}) == {}
    assert not LogBatch.objects.exists()


def _realworld_batches() -> list[tuple[str, str, list[dict]]]:
    """(file, log_type, lines) for every log file under realworld/logs."""
    batches = []
    for path in sorted((REALWORLD / "logs").rglob("*")):
        if not path.is_file() or path.name == "distributed_write_queries.json":
            continue  # that one is a distributed write body, replayed in test_node_distributed_write
        log_type = "status" if "status" in path.name else "result"
        if path.name == "firehose_kinesis_record_status.json":
            # A Kinesis record wrapping the forwarded status line in base64.
            lines = [json.loads(base64.b64decode(json.loads(path.read_text())["Data"]))]
        else:
            lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        batches.append((str(path.relative_to(REALWORLD)), log_type, lines))
    return batches


def test_realworld_files_are_all_found():
    names = {name for name, _, _ in _realworld_batches()}
    assert len(names) == 6, names


@pytest.mark.parametrize(
    ("name", "log_type", "lines"), _realworld_batches(), ids=lambda v: v if isinstance(v, str) and "/" in v else ""
)
def test_realworld_log_lines_are_stored(enrolled_linux, name, log_type, lines):
    gzipped = gz({"node_key": enrolled_linux.node_key, "log_type": log_type, "data": lines})

    status, reply = enrolled_linux.post("log", raw=gzipped, headers={"Content-Encoding": "gzip"})

    assert (status, reply) == (200, {})
    batch = LogBatch.objects.get()
    assert batch.line_count == len(lines) > 0
    assert log_batch_lines(batch) == lines


def test_firehose_record_decodes_to_the_documented_status_line():
    record = json.loads((REALWORLD / "logs/fleet-docs/firehose_kinesis_record_status.json").read_text())
    decoded = json.loads(base64.b64decode(record["Data"]))
    expected = json.loads((REALWORLD / "logs/fleet-docs/status_log_decoded.ndjson").read_text())
    assert decoded == expected


def test_intake_sql_is_constant_in_the_number_of_lines(enrolled_mac, vectors, with_worker):
    line = vectors["logger"]["status"]["data"][0]
    enrolled_mac.call("log", {"log_type": "status", "data": [line]})  # warm the node cache
    counts = []
    for n in (1, 50, 1024):
        with CaptureQueriesContext(connection) as queries:
            assert enrolled_mac.call("log", {"log_type": "status", "data": [line] * n}) == {}
        counts.append(len(queries))

    # One INSERT whatever the size, and nothing else: no transaction round trips either.
    assert counts == [1, 1, 1]
    assert all(q["sql"].startswith("INSERT") for q in queries.captured_queries)
    assert sorted(LogBatch.objects.values_list("line_count", flat=True)) == [1, 1, 50, 1024]
